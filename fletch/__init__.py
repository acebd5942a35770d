"""fletch."""
