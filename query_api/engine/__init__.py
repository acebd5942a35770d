"""EvalFlow's numeric core: PromQL evaluated as numpy arrays over series x steps."""
