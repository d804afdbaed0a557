import sys

from tfgan.invert.cli import main

sys.exit(main())
