"""The national-scale benchmark: a seeded generator of synthetic partner extracts, the bare DuckDB limit, and the
runner that measures ism against it (`make bench SIZE=S|M|L`). Kept out of `make test`."""
