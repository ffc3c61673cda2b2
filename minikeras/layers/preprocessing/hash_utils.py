"""The string hashes TensorFlow buckets with, in pure Python (64-bit arithmetic mod 2**64).

- ``fingerprint64(data)``: FarmHash's ``Fingerprint64`` (= ``farmhashna::Hash64``), which
  ``tf.strings.to_hash_bucket_fast`` uses: ``bucket = fingerprint64(utf8 bytes) % num_buckets``.
- ``siphash(key, data)``: SipHash-2-4 with the 128-bit key ``(k0, k1)``, which
  ``tf.strings.to_hash_bucket_strong`` uses (``Hashing(salt=...)``).

Both follow the reference C++ line by line; they are slow (microseconds per string) but exact.

- ``cross_hash(features, num_bins)``: ``tf.sparse.cross_hashed`` (``HashedCrossing``), which
  combines the features' hashes with TensorFlow's ``FingerprintCat64``.
"""

import numpy as np

_MASK = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _fetch64(s, i):
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s, i):
    return int.from_bytes(s[i:i + 4], "little")


def _rotate(value, shift):
    """Rotate right (FarmHash's ``Rotate``)."""
    return value if shift == 0 else ((value >> shift) | (value << (64 - shift))) & _MASK


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(s):
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _MASK
        b = _fetch64(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        a = _fetch32(s, 0)
        return _hash_len16((n + (a << 3)) & _MASK, _fetch32(s, n - 4), mul)
    if n > 0:
        a, b, c = s[0], s[n >> 1], s[n - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (n + (c << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _mix_ends(s, a, mul):
    """The two words FarmHash's 17-to-32 and 33-to-64 byte hashes both build from ``a`` (the
    first 8 bytes, scaled), bytes 8..16 and the last 16 bytes."""
    n = len(s)
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _MASK
    d = (_fetch64(s, n - 16) * _K2) & _MASK
    return ((_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
            (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK)


def _hash_len17to32(s):
    mul = _K2 + len(s) * 2
    a = (_fetch64(s, 0) * _K1) & _MASK
    return _hash_len16(*_mix_ends(s, a, mul), mul)


def _hash_len33to64(s):
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K2) & _MASK
    y, v = _mix_ends(s, a, mul)
    z = _hash_len16(y, v, mul)
    e = (_fetch64(s, 16) * mul) & _MASK
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _MASK
    h = ((z + _fetch64(s, n - 24)) * mul) & _MASK
    return _hash_len16((_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
                       (e + _rotate((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak_hash_len32_with_seeds(s, i, a, b):
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(data):
    """FarmHash ``Fingerprint64`` of ``data`` (bytes, or a str encoded as UTF-8)."""
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    n = len(s)
    if n <= 16:
        return _hash_len0to16(s)
    if n <= 32:
        return _hash_len17to32(s)
    if n <= 64:
        return _hash_len33to64(s)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _fetch64(s, 0)) & _MASK
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, i + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak_hash_len32_with_seeds(s, i, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak_hash_len32_with_seeds(s, i + 32, (z + w[1]) & _MASK,
                                        (y + _fetch64(s, i + 16)) & _MASK)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w = ((w[0] + ((n - 1) & 63)) & _MASK, w[1])
    v = ((v[0] + w[0]) & _MASK, v[1])
    w = ((w[0] + v[0]) & _MASK, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(s, i + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _fetch64(s, i + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(s, i + 40)) & _MASK
    z = (_rotate((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak_hash_len32_with_seeds(s, i, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak_hash_len32_with_seeds(s, i + 32, (z + w[1]) & _MASK,
                                    (y + _fetch64(s, i + 16)) & _MASK)
    z, x = x, z
    return _hash_len16((_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
                       (_hash_len16(v[1], w[1], mul) + x) & _MASK, mul)


def _rotl(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & _MASK


def siphash(key, data):
    """SipHash-2-4 of ``data`` (bytes, or a str encoded as UTF-8) with ``key = (k0, k1)``."""
    m = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    k0, k1 = (int(k) & _MASK for k in key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(v0, v1, v2, v3, count):
        for _ in range(count):
            v0 = (v0 + v1) & _MASK
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _MASK
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        return v0, v1, v2, v3

    full = len(m) - len(m) % 8
    for i in range(0, full, 8):
        word = int.from_bytes(m[i:i + 8], "little")
        v3 ^= word
        v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
        v0 ^= word
    last = int.from_bytes(m[full:], "little") | ((len(m) & 0xFF) << 56)
    v3 ^= last
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def hash_bucket(value, num_buckets, salt=None):
    """``tf.strings.to_hash_bucket_fast`` (``salt`` None) or ``_strong`` (``salt = [k0, k1]``)
    of one string or bytes value."""
    digest = fingerprint64(value) if salt is None else siphash(salt, value)
    return digest % num_buckets


# --- feature crosses (tf.sparse.cross_hashed) ----------------------------------------------------
CROSS_HASH_KEY = 0xDECAFCAFFE  # TensorFlow's _DEFAULT_HASH_KEY for tf.sparse.cross_hashed
_CAT_MUL = np.uint64(0xC6A4A7935BD1E995)
_47 = np.uint64(47)


def fingerprint_cat64(fp1, fp2):
    """TensorFlow's ``FingerprintCat64`` (``core/platform/fingerprint.h``), which combines two
    64-bit fingerprints, elementwise over uint64 arrays (their products wrap mod 2**64)::

        r = fp1 ^ kMul;   r ^= ShiftMix(fp2 * kMul) * kMul;   r *= kMul
        r = ShiftMix(ShiftMix(r) * kMul)            ShiftMix(v) = v ^ (v >> 47)
    """
    fp1 = np.asarray(fp1, dtype=np.uint64)
    fp2 = np.asarray(fp2, dtype=np.uint64)
    result = fp1 ^ _CAT_MUL
    mixed = fp2 * _CAT_MUL
    result ^= (mixed ^ (mixed >> _47)) * _CAT_MUL
    result = result * _CAT_MUL
    result = (result ^ (result >> _47)) * _CAT_MUL
    return result ^ (result >> _47)


def feature_hashes(values):
    """The 64-bit hash ``tf.sparse.cross_hashed`` gives each feature value (a uint64 array of
    ``values``' shape): an integer is its own int64 bits; a string (or bytes) its
    ``Fingerprint64``."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values.astype(np.int64).view(np.uint64)
    cache = {}  # each distinct string hashed once (str and bytes alike: UTF-8 bytes)
    prints = [cache[v] if v in cache else cache.setdefault(v, fingerprint64(v))
              for v in values.ravel().tolist()]
    return np.array(prints, dtype=np.uint64).reshape(values.shape)


def cross_hash(features, num_bins, hash_key=CROSS_HASH_KEY):
    """``tf.sparse.cross_hashed`` of features of one value per row (arrays of one shape): for
    each position, ``h = hash_key``, then ``h = FingerprintCat64(h, hash(feature_i))`` over the
    features in order, and ``bin = h % num_bins`` (``% (2**63 - 1)`` when num_bins is 0)."""
    shape = np.shape(features[0])
    hashed = np.full(int(np.prod(shape, dtype=np.int64)), hash_key, dtype=np.uint64)
    for feature in features:  # 1-D arrays: NumPy warns about wrapping only for scalars
        hashed = fingerprint_cat64(hashed, feature_hashes(np.ravel(feature)))
    modulus = np.uint64(num_bins if num_bins > 0 else (1 << 63) - 1)
    return (hashed % modulus).astype(np.int64).reshape(shape)
