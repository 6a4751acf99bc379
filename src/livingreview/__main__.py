from livingreview.cli import main

raise SystemExit(main())
