# first line: 11
def call_cell(fn, cell, version):
    return fn(**cell)
