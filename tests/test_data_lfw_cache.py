"""The decoded LFW cache is keyed by the image files themselves (issue 21): a replaced image is decoded again, never
served stale from a cache built before it changed."""
import os

import torch
from test_data_lfw import CENTRE, face, fake_lfw  # noqa: F401 (fixture)

import rbmlib.data.lfw as lfw
from rbmlib.data import LFWVerification


def test_a_replaced_image_is_decoded_again(fake_lfw):
    before = LFWVerification(fake_lfw, size=8)
    row = before.image_names.index("Bob/Bob_0001.jpg")
    path = fake_lfw / "lfw/lfw-deepfunneled" / lfw.image_name("Bob", 1)
    stat = path.stat()
    face(30).save(path, quality=95, subsampling=0)  # another shade: CENTRE + 30 instead of CENTRE + 1
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later time even on a coarse clock
    after = LFWVerification(fake_lfw, size=8)
    expected = (torch.tensor(CENTRE, dtype=torch.float32) + 30) / 255
    assert (after.images[row] - expected[:, None, None]).abs().max() < 4 / 255
    others = [i for i in range(len(before.image_names)) if i != row]
    assert torch.equal(after.images[others], before.images[others])
