from fer_live.bench.cli import main

raise SystemExit(main())
