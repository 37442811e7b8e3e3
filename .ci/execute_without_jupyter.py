"""Execute a notebook's code cells in order, in one namespace, without Jupyter.

For a machine that has PyTorch but no Jupyter and no package index (the GPU machine lent to some sessions): the
same cells run in the same order as ``jupyter nbconvert --execute`` would run them. Each cell's printed text and
displayed objects (their Markdown, else their ``repr``) are written back as the cell's outputs after every cell;
figures are not kept. Where IPython is missing, a two-name stand-in for ``IPython.display`` (``display``,
``Markdown``) is installed. Cell sources are registered with ``linecache`` as IPython does, so ``inspect.getsource``
(which the notebooks' grid versions and joblib's cache keys use) works on functions defined in a cell.

    python .ci/execute_without_jupyter.py notebooks/rbm_mnist.ipynb out.ipynb
"""
from __future__ import annotations

import ast
import io
import json
import linecache
import sys
import time
import traceback
import types
from contextlib import redirect_stderr, redirect_stdout

OUTPUTS: list[dict] = []  # the running cell's outputs


class _Tee(io.TextIOBase):
    """Write to the real stream and keep a copy for the cell's outputs."""

    def __init__(self, stream, name):
        self.stream, self.name, self.text = stream, name, []

    def write(self, s):
        self.stream.write(s)
        self.stream.flush()
        self.text.append(s)
        return len(s)

    def flush(self):
        self.stream.flush()


def display(*objects, **_):
    for obj in objects:
        markdown = getattr(obj, "_repr_markdown_", None)
        data = {"text/plain": repr(obj)}
        if markdown is not None:
            data["text/markdown"] = markdown()
        OUTPUTS.append({"output_type": "display_data", "data": data, "metadata": {}})
        print(data.get("text/markdown", data["text/plain"]), file=sys.__stdout__, flush=True)


class Markdown:
    def __init__(self, data):
        self.data = data

    def _repr_markdown_(self):
        return self.data

    def __repr__(self):
        return self.data


def _install_display_stand_in():
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        package, module = types.ModuleType("IPython"), types.ModuleType("IPython.display")
        module.display, module.Markdown = display, Markdown
        package.display = module
        sys.modules.update({"IPython": package, "IPython.display": module})


def run_cell(index: int, source: str, namespace: dict) -> None:
    filename = f"<cell {index}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            display(value)


def main(source_path: str, output_path: str) -> int:
    _install_display_stand_in()
    with open(source_path) as f:
        notebook = json.load(f)
    namespace = {"__name__": "__main__", "display": display}
    failed = 0
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        OUTPUTS.clear()
        out, err = _Tee(sys.__stdout__, "stdout"), _Tee(sys.__stderr__, "stderr")
        start = time.perf_counter()
        print(f"--- cell {index}", file=sys.__stdout__, flush=True)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                run_cell(index, "".join(cell["source"]), namespace)
        except Exception:
            failed = 1
            err.write(traceback.format_exc())
        streams = [{"output_type": "stream", "name": s.name, "text": "".join(s.text)} for s in (out, err) if s.text]
        cell["outputs"] = streams + list(OUTPUTS)
        cell["metadata"]["wall_time_s"] = round(time.perf_counter() - start, 1)
        with open(output_path, "w") as f:
            json.dump(notebook, f, indent=1)
        if failed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
