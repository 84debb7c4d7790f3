"""Matrix products that add into their output, with the GIL released.

``gemm(a, b, out, accumulate=True)`` computes ``out += a @ b`` in one pass:
BLAS's ``beta = 1``, which NumPy's ``matmul`` does not offer (it would write
``a @ b`` to a new array and add it in a second pass over memory). The
products are SciPy's BLAS (``scipy.linalg.cython_blas``, the functions SciPy
exports for compiled code), called through :mod:`ctypes`, which releases the
GIL for the call: threads of skcnn's own multiply at once.
(``scipy.linalg.blas``'s wrappers hold the GIL: two threads calling them ran
no faster than one.)

Where SciPy's BLAS cannot be reached, NumPy computes the same products.
"""

import ctypes
import functools

import numpy as np

_TYPES = {
    np.dtype(np.float32): ("sgemm", ctypes.c_float),
    np.dtype(np.float64): ("dgemm", ctypes.c_double),
}
_POINTER = ctypes.c_void_p
#: sgemm and dgemm of the Fortran interface: every argument by reference.
_SIGNATURE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, *[_POINTER] * 11)


def _exported(name):
    """The address of the function ``name`` that scipy.linalg.cython_blas exports."""
    from scipy.linalg import cython_blas

    capsule = cython_blas.__pyx_capi__[name]
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))


@functools.cache
def functions():
    """``{dtype: (gemm, scalar type)}`` of SciPy's BLAS; empty where it cannot be reached."""
    try:
        return {
            dtype: (_SIGNATURE(_exported(name)), scalar) for dtype, (name, scalar) in _TYPES.items()
        }
    except (ImportError, AttributeError, KeyError, TypeError, ValueError):
        return {}


def _layout(matrix):
    """How BLAS (column-major) reads a row-major 2-D view: ``(b"N" or b"T", leading dimension)``.

    ``None`` where BLAS cannot read it in place: neither axis of unit stride,
    overlapping rows or columns, negative strides.
    """
    rows, cols = matrix.shape
    size = matrix.itemsize
    if any(stride % size for stride in matrix.strides):
        return None
    row_stride, col_stride = (stride // size for stride in matrix.strides)
    # The stride of an axis of length 1 is never used: give it one that fits.
    if cols == 1:
        col_stride = 1
    if rows == 1:
        row_stride = max(cols, 1) if col_stride == 1 else 1
    if col_stride == 1 and row_stride >= max(cols, 1):
        return b"N", row_stride
    if row_stride == 1 and col_stride >= max(rows, 1):
        return b"T", col_stride
    return None


#: BLAS's integers (LP64): sizes and leading dimensions below 2**31.
_INT_LIMIT = 2**31 - 1


def gemm(a, b, out, accumulate=False):
    """``out = a @ b``, or ``out += a @ b`` with ``accumulate``, in place.

    Parameters
    ----------
    a : ndarray of shape (m, k)
    b : ndarray of shape (k, n)
        Views in any layout BLAS reads in place (rows or columns contiguous,
        such as a block of rows or a transpose); others are copied.
    out : ndarray of shape (m, n)
        Rows contiguous; the same dtype as ``a`` and ``b``: float32 or float64.
    """
    m, k = a.shape
    n = b.shape[1]
    if b.shape[0] != k or out.shape != (m, n):
        raise ValueError(f"gemm: shapes {a.shape} @ {b.shape} -> {out.shape} do not chain.")
    if not a.dtype == b.dtype == out.dtype:
        raise ValueError(f"gemm: dtypes {a.dtype}, {b.dtype}, {out.dtype} differ.")
    blas = functions().get(out.dtype)
    layouts = [_layout(matrix) for matrix in (a, b, out)]
    if (
        blas is None
        or layouts[2] is None
        or layouts[2][0] != b"N"
        or not out.flags.writeable
        or max(m, n, k, *(layout[1] for layout in layouts if layout)) > _INT_LIMIT
    ):
        if accumulate:
            out += a @ b
        else:
            np.matmul(a, b, out=out)
        return out
    if m == 0 or n == 0:
        return out
    if k == 0:
        if not accumulate:
            out.fill(0)
        return out
    a_layout, b_layout, out_layout = layouts
    if a_layout is None:
        a = np.ascontiguousarray(a)
        a_layout = _layout(a)
    if b_layout is None:
        b = np.ascontiguousarray(b)
        b_layout = _layout(b)
    function, scalar = blas
    # Row-major out = a @ b is column-major out^T = b^T a^T: b comes first.
    integer = ctypes.c_int
    function(
        b_layout[0],
        a_layout[0],
        ctypes.byref(integer(n)),
        ctypes.byref(integer(m)),
        ctypes.byref(integer(k)),
        ctypes.byref(scalar(1.0)),
        _POINTER(b.ctypes.data),
        ctypes.byref(integer(b_layout[1])),
        _POINTER(a.ctypes.data),
        ctypes.byref(integer(a_layout[1])),
        ctypes.byref(scalar(1.0 if accumulate else 0.0)),
        _POINTER(out.ctypes.data),
        ctypes.byref(integer(out_layout[1])),
    )
    return out
