"""Data sets in torchvision's style (root, download, md5): MNIST, CIFAR-10, LFW verification, NORB and its stand-in.

Data root: ``RBMBOOK_DATA`` (read-only), else ``~/.cache/rbmbook``; decoded caches: ``RBMBOOK_CACHE``, else
``~/.cache/rbmbook/decoded`` (see ``rbmlib.data.files``).
"""
from .files import CorruptDataError, DataError, MissingDataError, cache_dir, data_root
from .mnist import MNIST, load_mnist
from .cifar10 import CIFAR10, load_cifar10
from .lfw import LFWVerification
from .norb import load_norb, norb_or_standin, read_norb_matrix
from .standardise import Standardiser

__all__ = [
    "DataError", "MissingDataError", "CorruptDataError", "data_root", "cache_dir",
    "MNIST", "load_mnist", "CIFAR10", "load_cifar10",
    "LFWVerification", "Standardiser",
    "load_norb", "norb_or_standin", "read_norb_matrix",
]
