import sys

from grokgpt.cli import main

sys.exit(main())
