import sys

from tfgan.drag.cli import main

sys.exit(main())
