import sys

from fletch.cli import main

sys.exit(main())
