import sys

from sensorkit.cli import main

sys.exit(main())
