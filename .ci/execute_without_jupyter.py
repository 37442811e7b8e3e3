"""Execute a notebook's code cells in order, in one namespace, without Jupyter.

For a machine that has PyTorch but no Jupyter and no package index (the GPU machine lent to some sessions): the
same cells run in the same order as ``jupyter nbconvert --execute`` would run them, in the notebook's folder. Each
cell's printed text and displayed objects (their Markdown, else their ``repr``) are written back as the cell's
outputs after every cell; figures are not kept. Where IPython is missing, a two-name stand-in for
``IPython.display`` (``display``, ``Markdown``) is installed. Cell sources are registered with ``linecache`` as
IPython does, so ``inspect.getsource`` (which the notebooks' grid versions and joblib's cache keys use) works on
functions defined in a cell.

As a command::

    python .ci/execute_without_jupyter.py notebooks/rbm_mnist.ipynb out.ipynb

In-process, from Python (the unit suite's smoke tests load this file by path, with ``importlib``)::

    namespace = execute("notebooks/rbm_mnist.ipynb", env={"RBMBOOK_PROFILE": "paper", "RBMBOOK_SMOKE": "1"},
                        before=patch, after_cell=look)

``execute(notebook, *, env=None, before=None, after_cell=None, output_path=None)`` runs every code cell in this
process and returns the namespace the cells ran in (their variables: ``P``, ``verdicts``, ...):

* ``env``: environment variables set for the run and restored afterwards (a value of None unsets one);
* ``before(namespace)``: called once the environment is set, before the first cell. Since the cells run in this
  process, it can replace library functions for the whole run (e.g. ``monkeypatch.setattr(rbmlib.supervised,
  "fit", spy)``: the notebook's ``from rbmlib.supervised import fit`` then imports the spy, a call through a module
  attribute reaches it too) or put names into the namespace. This is what a leak test builds on: wrap the data
  loaders and the training and selection calls, record what each one was given, and assert on it afterwards;
* ``after_cell(index, source, namespace)``: called after each code cell (``index`` counts code cells from 0, as
  nbval's ``Cell N``), e.g. to inspect the variables a cell made;
* ``output_path``: where to write the notebook with its outputs after every cell (None: nowhere).

A failing cell raises :class:`CellError` (its index and source in the message, the cell's exception as its cause);
the cells after it do not run.
"""
from __future__ import annotations

import ast
import io
import json
import linecache
import os
import sys
import time
import traceback
import types
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Callable, Mapping

OUTPUTS: list[dict] = []  # the running cell's outputs


class CellError(RuntimeError):
    """A code cell raised: the message names the cell (its index among code cells) and shows its start."""


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


@contextmanager
def _environment(env: Mapping[str, str | None] | None, folder: Path):
    """Set ``env`` and work in ``folder`` for the run; restore both afterwards."""
    saved = {k: os.environ.get(k) for k in (env or {})}
    cwd = os.getcwd()
    try:
        for k, v in (env or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        os.chdir(folder)
        yield
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(notebook_path, *, env: Mapping[str, str | None] | None = None,
            before: Callable[[dict], None] | None = None,
            after_cell: Callable[[int, str, dict], None] | None = None, output_path=None) -> dict:
    """Run the notebook's code cells in order in one fresh namespace in this process; return the namespace.

    See the module's docstring for ``env``, ``before``, ``after_cell`` and ``output_path``; raises
    :class:`CellError` at the first cell that fails.
    """
    _install_display_stand_in()
    notebook_path = Path(notebook_path).resolve()
    output_path = None if output_path is None else Path(output_path).resolve()
    notebook = json.loads(notebook_path.read_text())
    namespace = {"__name__": "__main__", "display": display}
    with _environment(env, notebook_path.parent):
        if before is not None:
            before(namespace)
        index = -1
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            index += 1
            source = "".join(cell["source"])
            OUTPUTS.clear()
            out, err = _Tee(sys.__stdout__, "stdout"), _Tee(sys.__stderr__, "stderr")
            start = time.perf_counter()
            print(f"--- cell {index}", file=sys.__stdout__, flush=True)
            error = None
            try:
                with redirect_stdout(out), redirect_stderr(err):
                    run_cell(index, source, namespace)
            except Exception as raised:  # noqa: BLE001 - recorded in the cell's outputs, then raised as CellError
                error = raised
                err.write(traceback.format_exc())
            streams = [{"output_type": "stream", "name": s.name, "text": "".join(s.text)}
                       for s in (out, err) if s.text]
            cell["outputs"] = streams + list(OUTPUTS)
            cell["metadata"]["wall_time_s"] = round(time.perf_counter() - start, 1)
            if output_path is not None:
                output_path.write_text(json.dumps(notebook, indent=1))
            if error is not None:
                raise CellError(f"{notebook_path.name}: code cell {index} raised {type(error).__name__}: {error}\n"
                                f"--- its source:\n{source[:1500]}") from error
            if after_cell is not None:
                after_cell(index, source, namespace)
    return namespace


def main(source_path: str, output_path: str) -> int:
    try:
        execute(source_path, output_path=output_path)
    except CellError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
