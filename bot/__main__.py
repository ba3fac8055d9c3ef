from .cli import main

raise SystemExit(main(["run"] if __import__("sys").argv[1:] == [] else None))
