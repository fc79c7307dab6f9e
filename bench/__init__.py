"""`make bench`: generate city-scale data and measure every page against DESIGN.md's budgets.

Run `python -m bench.run` from the project root. The pages measured are listed in
`bench/cases.py`; the databases are built and reused by `bench/dataset.py`.
"""
