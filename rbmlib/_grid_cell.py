"""The one function ``rbmlib.grid`` caches with ``joblib.Memory``: call a grid cell.

It lives alone in this module, which is never to be edited. On every run joblib compares the cached function's source
text, read from disk at the line where the running process found it, with the text stored beside the cache, and
clears the whole cache on any difference. Had it stayed in ``grid.py``, an edit that shifted ``grid.py``'s lines
while a long run was executing would have made the running process read the wrong lines and wipe every finished cell
(this happened once, to hours of cells). Renaming or moving this function orphans every cached cell.
"""


def call_cell(fn, cell, version):
    return fn(**cell)
