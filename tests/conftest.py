"""rbmlib is imported before anything imports torch, so that the CPU arithmetic path is pinned (see
rbmlib.reproducibility) exactly as in the notebooks."""
import rbmlib  # noqa: F401
