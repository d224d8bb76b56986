"""Write the .npy files the npy tests and the header fuzz target start from,
with NumPy's own writer (np.save / numpy.lib.format.write_array).

    /tmp/venvs/fix/bin/python lazyconv/npy/testdata/make_seeds.py
"""

from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

HERE = Path(__file__).parent


def save(name, array, **kwargs):
    np.save(HERE / name, array, **kwargs)


def write_version(name, array, version):
    with open(HERE / name, "wb") as f:
        npformat.write_array(f, array, version=version)


def main():
    a = np.arange(6, dtype=np.float32)
    save("f4_1d.npy", a)
    save("f4_2d.npy", a.reshape(2, 3))
    save("f4_scalar.npy", np.float32(1.5))
    save("f4_empty.npy", np.zeros(0, np.float32))
    write_version("f4_v2.npy", a, (2, 0))
    write_version("f4_v3.npy", a, (3, 0))
    save("f2.npy", a.astype(np.float16))
    save("f8.npy", a.astype(np.float64))
    save("i8.npy", np.arange(3, dtype=np.int64))
    save("u1.npy", np.arange(3, dtype=np.uint8))
    save("b1.npy", np.array([True, False]))
    save("f4_big_endian.npy", a.astype(">f4"))
    save("f4_fortran.npy", np.asfortranarray(a.reshape(2, 3)))
    save("object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    save("unicode.npy", np.array(["ab", "c"]))
    save("complex.npy", a.astype(np.complex64))
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))


if __name__ == "__main__":
    main()
