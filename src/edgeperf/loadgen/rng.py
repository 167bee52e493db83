"""Bit-exact random number generation of the v1.1 LoadGen (spec §5).

Every random choice LoadGen r1.1 makes comes from a 32-bit Mersenne Twister
(``std::mt19937``) fed through libstdc++ distributions as they were implemented
before GCC 12 (spec §5.2–§5.5).  This module reproduces that word stream and
those distributions exactly, in two flavours:

* scalar functions (``uniform_int``, ``canonical``, ``exponential`` …) that
  follow the C++ recipes literally, one draw at a time;
* vectorised functions (``uniform_int_array``, ``canonical_array``,
  ``exponential_ns_array`` …) that give bit-identical results and consume the
  word stream in exactly the same order as the corresponding run of scalar
  calls, so both may be mixed on one generator.

Higher-level helpers cover what the engine needs: the loadable-set shuffle
(§6 step 1), the accuracy-log offset (§9.3) and the Server Poisson schedule
(§7 steps 8–9, §16 "Scale").

Only numpy and the standard library are used.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, MutableSequence

import numpy as np

__all__ = [
    "MT19937Words",
    "accuracy_log_offset",
    "canonical",
    "canonical_array",
    "exponential",
    "exponential_ns_array",
    "exponential_ns_chunks",
    "seconds_to_ns",
    "server_schedule",
    "server_schedule_count",
    "shuffle",
    "shuffled_range",
    "uniform_int",
    "uniform_int_array",
]

# Range of the generator: std::mt19937::max() - std::mt19937::min() (§5.2 "R").
_R = 0xFFFFFFFF
_TWO32 = 4294967296.0
_TWO_M64 = 2.0**-64
# Largest double below 1.0, used when a canonical draw rounds up to 1.0 (§5.4).
_BELOW_ONE = math.nextafter(1.0, 0.0)
# Words fetched from numpy at a time when refilling the internal buffer.
_REFILL = 4096
# Default number of draws per chunk in the chunked Server schedule helpers.
_DEFAULT_CHUNK = 1 << 20


def _init_genrand(seed32: int) -> np.ndarray:
    """Return the 624-word MT19937 state produced by ``init_genrand(seed32)`` (§5.1)."""
    key = [0] * 624
    x = seed32 & 0xFFFFFFFF
    key[0] = x
    for i in range(1, 624):
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return np.array(key, dtype=np.uint32)


class MT19937Words:
    """The tempered 32-bit output words of ``std::mt19937(seed)``.

    The 64-bit LoadGen seed is reduced mod 2**32 (what the implicit conversion to
    ``std::mt19937::result_type`` does) and then expanded with the standard
    ``init_genrand`` recurrence (spec §5.1).  The twist and tempering are done by
    numpy's ``MT19937`` bit generator, whose state is loaded through the public
    ``state`` setter with that key and ``pos = 624`` (so the first draw twists,
    exactly as a freshly seeded ``std::mt19937``); its ``random_raw`` output is the
    standard tempered word stream (cross-checked in the tests against an
    independent pure-Python implementation).

    Words are handed out through an internal look-ahead buffer so that scalar
    draws (``next_word``) and bulk draws (``words``) can be mixed freely: the
    combined sequence is always the generator's single word stream.
    """

    __slots__ = ("_bitgen", "_buf", "_list", "_pos", "_consumed")

    def __init__(self, seed: int = 5489) -> None:
        """Seed like ``std::mt19937(seed)``; 5489 is the default-constructed seed."""
        self._bitgen = np.random.MT19937()
        self._bitgen.state = {
            "bit_generator": "MT19937",
            "state": {"key": _init_genrand(int(seed) % (1 << 32)), "pos": 624},
        }
        self._buf = np.empty(0, dtype=np.uint64)  # look-ahead words
        self._list: list[int] | None = None  # Python-int mirror of _buf for next_word
        self._pos = 0  # index of the next unconsumed word in _buf
        self._consumed = 0

    @property
    def consumed(self) -> int:
        """Number of words consumed so far (scalar and bulk draws together)."""
        return self._consumed

    def next_word(self) -> int:
        """Return the next 32-bit word as a Python int (``operator()`` of mt19937)."""
        pos = self._pos
        if pos >= len(self._buf):
            self._buf = self._bitgen.random_raw(_REFILL)
            self._list = None
            pos = 0
        lst = self._list
        if lst is None:
            lst = self._list = self._buf.tolist()
        self._pos = pos + 1
        self._consumed += 1
        return lst[pos]

    def words(self, n: int) -> np.ndarray:
        """Return the next ``n`` words as a fresh ``np.uint64`` array (values < 2**32)."""
        n = int(n)
        if n < 0:
            raise ValueError("n must be non-negative")
        avail = len(self._buf) - self._pos
        if avail == 0:
            out = self._bitgen.random_raw(n) if n else np.empty(0, dtype=np.uint64)
        elif avail >= n:
            out = self._buf[self._pos : self._pos + n].copy()
            self._pos += n
        else:
            out = np.concatenate((self._buf[self._pos :], self._bitgen.random_raw(n - avail)))
            self._pos = len(self._buf)
        self._consumed += n
        return out

    # -- look-ahead interface used by the vectorised rejection samplers ------------
    def _peek(self, n: int) -> np.ndarray:
        """Return (a view of) the next ``n`` words without consuming them."""
        avail = len(self._buf) - self._pos
        if avail < n:
            fresh = self._bitgen.random_raw(max(n - avail, _REFILL))
            self._buf = np.concatenate((self._buf[self._pos :], fresh)) if avail else fresh
            self._list = None
            self._pos = 0
        return self._buf[self._pos : self._pos + n]

    def _advance(self, n: int) -> None:
        """Consume ``n`` words previously made available by ``_peek``."""
        self._pos += n
        self._consumed += n


# ----------------------------------------------------------------------------------
# Scalar distributions (libstdc++, pre-GCC-12)
# ----------------------------------------------------------------------------------


def _scale_limit(span: int) -> tuple[int, int]:
    """Downscaling factor and rejection bound for a span of ``span`` values (§5.2)."""
    if span == _R + 1:
        return 1, _R + 1  # b - a == R: the raw word, never rejected
    if not 1 <= span <= _R:
        raise ValueError(f"uniform_int span {span} not in [1, 2**32]")
    scale = _R // span
    return scale, span * scale


def uniform_int(words, a: int, b: int) -> int:
    """``std::uniform_int_distribution<>(a, b)(mt19937)`` as libstdc++ did before GCC 12.

    Classic downscaling with rejection (spec §5.2): ``scale = R // (b - a + 1)``,
    draw words until one is ``< (b - a + 1) * scale``, return ``a + w // scale``.
    ``words`` is anything with a ``next_word()`` method (normally ``MT19937Words``).
    Spans wider than 2**32 (which LoadGen never uses) raise ``ValueError``.
    """
    if b < a:
        raise ValueError("uniform_int needs a <= b")
    scale, limit = _scale_limit(b - a + 1)
    next_word = words.next_word
    while True:
        w = next_word()
        if w < limit:
            return a + w // scale


def canonical(words) -> float:
    """``std::generate_canonical<double, 53>(mt19937)`` — a double in [0, 1) (spec §5.4).

    Two words per double: ``(w1 + w2 * 2**32) / 2**64`` in IEEE double (one rounding,
    in the addition); a result that rounds up to 1.0 becomes the largest double
    below 1.0 (the libstdc++ fix for LWG 2524).
    """
    w1 = words.next_word()
    w2 = words.next_word()
    r = (float(w1) + float(w2) * _TWO32) * _TWO_M64
    return _BELOW_ONE if r >= 1.0 else r


def exponential(words, lam: float) -> float:
    """``std::exponential_distribution<>(lam)(mt19937)``: ``-log(1 - canonical) / lam`` (§5.5).

    ``math.log`` is the C library ``log`` (glibc on Linux), as in the C++ LoadGen.
    """
    return -math.log(1.0 - canonical(words)) / lam


def seconds_to_ns(x: float) -> int:
    """Seconds (double) to integer ns: ``int64(x * 1e9)``, truncating toward zero (§5.5)."""
    return int(x * 1e9)


def shuffle(words, array: MutableSequence) -> None:
    """``std::shuffle(array.begin(), array.end(), mt19937)`` of libstdc++, in place (spec §5.3).

    For ``n <= 65535`` (``R // n >= n``) this is libstdc++'s *paired* variant: one
    uniform draw in ``[0, r*(r+1) - 1]`` places two elements at a time (preceded, for
    even ``n``, by a single draw in ``[0, 1]`` for element 1); otherwise the plain
    forward Fisher–Yates loop.  ``array`` may be a list or a 1-D numpy array.

    With an ``MT19937Words`` generator the uniform draws are made in bulk (see
    ``_uniform_varying``), consuming words in exactly the order of the scalar loop;
    other word sources (anything with ``next_word``) use the literal scalar loop.
    """
    n = len(array)
    if n <= 1:
        return  # n == 1 draws nothing in either variant; n == 0 is a no-op
    if n > _R + 1:
        raise ValueError("shuffle of more than 2**32 elements is not supported")
    is_numpy = isinstance(array, np.ndarray)
    a = array.tolist() if is_numpy else array
    bulk = isinstance(words, MT19937Words)

    if _R // n >= n:
        # Paired variant.
        start = 1
        if n % 2 == 0:
            j = uniform_int(words, 0, 1)
            a[1], a[j] = a[j], a[1]
            start = 2
        positions = range(start, n, 2)  # i = start, start+2, ..., n-2
        if bulk:
            r = np.arange(start + 1, n, 2, dtype=np.uint64)  # r = i + 1
            x = _uniform_varying(words, r * (r + np.uint64(1)))
            j1s = (x // (r + np.uint64(1))).tolist()
            j2s = (x % (r + np.uint64(1))).tolist()
        else:
            j1s, j2s = [], []
            for i in positions:
                xs = uniform_int(words, 0, (i + 1) * (i + 2) - 1)
                j1s.append(xs // (i + 2))
                j2s.append(xs % (i + 2))
        for i, j1, j2 in zip(positions, j1s, j2s):
            a[i], a[j1] = a[j1], a[i]
            a[i + 1], a[j2] = a[j2], a[i + 1]
    else:
        # Plain forward Fisher-Yates: for i = 1..n-1, j = uniform(0, i).
        if bulk:
            js = _uniform_varying(words, np.arange(2, n + 1, dtype=np.uint64)).tolist()
        else:
            js = [uniform_int(words, 0, i) for i in range(1, n)]
        for i, j in zip(range(1, n), js):
            a[i], a[j] = a[j], a[i]

    if is_numpy:
        array[:] = a


# ----------------------------------------------------------------------------------
# Vectorised forms (bit-exact with the scalar ones, same word consumption)
# ----------------------------------------------------------------------------------


def _uniform_varying(words: MT19937Words, spans: np.ndarray) -> np.ndarray:
    """Draw ``uniform_int(0, spans[k] - 1)`` for k = 0, 1, … in order, in bulk.

    Returns the draws as ``np.uint64``.  Words are consumed exactly as the scalar
    loop would: each step takes words until one is below that step's limit.  The
    loop is optimistic: it tests a block of words against the block's limits and
    accepts everything up to the first rejection, skips the rejected word and
    continues from the step it belongs to.  The block shrinks after a rejection
    (so stretches with high rejection rates, e.g. spans just above 2**31 in the
    paired shuffle, stay cheap) and grows again after clean blocks.
    """
    spans = np.asarray(spans, dtype=np.uint64)
    m = len(spans)
    out = np.empty(m, dtype=np.uint64)
    if m == 0:
        return out
    if int(spans.min()) < 1 or int(spans.max()) > _R:
        raise ValueError("spans must lie in [1, 2**32 - 1]")
    scale = np.uint64(_R) // spans
    limit = spans * scale
    s = 0
    blk = 256
    while s < m:
        k = min(blk, m - s)
        w = words._peek(k)
        ok = w < limit[s : s + k]
        if ok.all():
            out[s : s + k] = w // scale[s : s + k]
            words._advance(k)
            s += k
            blk = min(blk * 2, 1 << 18)
        else:
            f = int(np.argmin(ok))  # first rejected word
            out[s : s + f] = w[:f] // scale[s : s + f]
            words._advance(f + 1)  # accepted words plus the rejected one
            s += f
            blk = max(16, 2 * f)
    return out


def uniform_int_array(words: MT19937Words, a: int, b: int, n: int) -> np.ndarray:
    """``n`` consecutive ``uniform_int(words, a, b)`` draws as an ``np.int64`` array.

    With a constant span the accepted words are simply the first ``n`` words of the
    stream below the rejection limit, so the draws are found with one vectorised
    filter; the generator advances to just past the ``n``-th accepted word, exactly
    like ``n`` scalar calls.  ``a`` and ``b`` must fit in int64 (as all LoadGen
    uses do).
    """
    if b < a:
        raise ValueError("uniform_int_array needs a <= b")
    n = int(n)
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    scale, limit = _scale_limit(b - a + 1)
    # Expected words needed: n / p_accept, plus a little slack.
    p = limit / (_R + 1.0)
    want = int(n / p * 1.01) + 64
    while True:
        w = words._peek(want)
        idx = np.flatnonzero(w < limit)
        if len(idx) >= n:
            sel = w[idx[:n]]
            words._advance(int(idx[n - 1]) + 1)
            break
        want = want * 2
    return (sel // np.uint64(scale)).astype(np.int64) + np.int64(a)


def canonical_array(words, n: int) -> np.ndarray:
    """``n`` consecutive ``canonical(words)`` draws as a float64 array (2 words each).

    ``words`` is anything with a ``words(n)`` method (normally ``MT19937Words``).
    """
    n = int(n)
    w = words.words(2 * n)
    r = w[0::2].astype(np.float64)
    r += w[1::2].astype(np.float64) * _TWO32  # exact product, one rounding in the sum
    r *= _TWO_M64  # exact (power of two)
    r[r >= 1.0] = _BELOW_ONE
    return r


# Relative half-width of the band around an integer in which a truncated
# nanosecond value is recomputed with math.log (see _exp_ns_from_uniform).
_NS_GUARD = 2.0**-40


def _exp_ns_from_uniform(u: np.ndarray, lam: float, log=np.log) -> np.ndarray:
    """``int64(-log(1 - u) / lam * 1e9)`` for each canonical ``u``, exactly as C computes it.

    Why the guard: numpy's ``np.log`` is not the C library's ``log``.  On x86-64
    with AVX-512 numpy uses its own SIMD implementation, and measurement
    (50 million canonical inputs, see the commit message) showed it differing
    from glibc's ``log`` (= Python's ``math.log``) by 1 ulp on about 0.35 % of
    inputs — enough to change a truncated nanosecond now and then.  So we compute
    everything in numpy, whose ``1 - u``, negation, division and multiplication are
    the same correctly rounded IEEE operations as in C, and then find every element
    whose truncation *could* depend on the last bits of the logarithm: those with
    ``y`` within ``y * 2**-40`` of an integer.  Rounding is monotone, so an error in
    ``log`` of relative size ``d`` moves ``y`` by at most about ``y * (d + 2**-51)``;
    the band therefore covers any disagreement between the two logs of up to about
    2**12 ulp — far beyond the <= 1 ulp both libraries guarantee.  Elements outside
    the band truncate identically whatever the last bits are; elements inside (about
    one per 600 s Server schedule, since the band's total width is
    ``2**-39 * sum(y)`` ~ 2**-39 * 600e9) are recomputed with ``math.log``, which is
    the glibc function the C++ LoadGen calls.  The result is exactly the scalar
    ``seconds_to_ns(exponential(...))`` on the same draws.
    """
    t = 1.0 - u
    y = -log(t)
    y /= lam
    y *= 1e9
    ns = y.astype(np.int64)  # truncation toward zero (y >= 0)
    frac = y - np.floor(y)
    tol = y * _NS_GUARD
    suspect = np.flatnonzero((frac <= tol) | ((1.0 - frac) <= tol))
    if len(suspect):
        for k, tk in zip(suspect.tolist(), t[suspect].tolist()):
            ns[k] = int(-math.log(tk) / lam * 1e9)
    return ns


def exponential_ns_array(words, lam: float, n: int) -> np.ndarray:
    """``n`` consecutive ``seconds_to_ns(exponential(words, lam))`` draws, as ``np.int64``.

    Bit-exact with the scalar form even though numpy's ``log`` can differ from the C
    library's by an ulp (see ``_exp_ns_from_uniform``).  Consumes ``2 * n`` words.
    These are the per-query Server schedule increments (spec §7 step 8).
    """
    if not lam > 0.0:
        raise ValueError("lam must be positive")
    return _exp_ns_from_uniform(canonical_array(words, n), float(lam))


def exponential_ns_chunks(
    words, lam: float, chunk: int = _DEFAULT_CHUNK, count: int | None = None
) -> Iterator[np.ndarray]:
    """Yield Server schedule increments (``exponential_ns_array``) in chunks of ``chunk``.

    Infinite when ``count`` is None; otherwise yields exactly ``count`` draws in total
    (the last chunk may be shorter).  Memory stays bounded by one chunk.
    """
    if chunk <= 0:
        raise ValueError("chunk must be positive")
    if count is None:
        while True:
            yield exponential_ns_array(words, lam, chunk)
    left = int(count)
    while left > 0:
        k = min(chunk, left)
        yield exponential_ns_array(words, lam, k)
        left -= k


# ----------------------------------------------------------------------------------
# Higher-level helpers used by the engine
# ----------------------------------------------------------------------------------


def accuracy_log_offset(seed: int) -> float:
    """Per-series accuracy-log offset: first canonical double of ``mt19937(seed)`` (§9.3)."""
    return canonical(MT19937Words(seed))


def shuffled_range(seed: int, n: int) -> np.ndarray:
    """``[0 .. n-1]`` shuffled once by a fresh ``mt19937(seed)`` (§6 step 1), as ``np.int64``."""
    a = list(range(int(n)))
    shuffle(MT19937Words(seed), a)
    return np.array(a, dtype=np.int64)


def _schedule_chunks(seed: int, qps: float, gen_duration_ns: int, min_queries: int, chunk: int):
    """Run the §7 step 9 loop for Server on chunked draws.

    Yields ``(deltas, final_timestamp_or_None)`` per chunk, where ``deltas`` are the
    scheduled deltas of the queries generated from that chunk; the last item carries
    the final timestamp (= ``generated_query_duration``).

    The loop (timestamp = prev = 0; while prev < gen or count < min: add a query at
    timestamp; prev = timestamp; timestamp += increment) adds query k (0-based) iff
    ``(k == 0 ? 0 : delta[k-1]) < gen  or  k < min``.  Increments are >= 0, so the
    deltas are non-decreasing and the first clause, once false, stays false: the
    query count is ``min`` when ``gen <= 0``, else ``max(min, j + 1)`` with ``j`` the
    first index whose delta is ``>= gen``.  Every generated query draws one
    increment, so the final timestamp is the sum of the first ``count`` increments.
    """
    gen = int(gen_duration_ns)
    min_q = int(min_queries)
    if gen <= 0 and min_q <= 0:
        yield np.empty(0, dtype=np.int64), 0
        return
    words = MT19937Words(seed)
    base = 0  # timestamp before the current chunk = delta of its first query
    count = 0  # queries emitted so far
    reached = gen <= 0  # has some delta reached gen_duration already?
    while True:
        inc = exponential_ns_array(words, qps, chunk)
        ts = np.cumsum(inc)
        ts += base  # ts[i] = timestamp after query count+i drew its increment
        deltas = np.empty(chunk, dtype=np.int64)
        deltas[0] = base
        deltas[1:] = ts[:-1]
        # Number of queries of this chunk to keep: first up to min_queries, then up
        # to and including the first query whose delta is >= gen.
        take = chunk
        need_min = max(0, min_q - count)
        if reached:
            if need_min < chunk:
                take = need_min
        else:
            hit = np.flatnonzero(deltas >= gen)
            if len(hit):
                reached = True
                take = min(max(int(hit[0]) + 1, need_min), chunk)
        if take < chunk:
            final = base if take == 0 else int(ts[take - 1])
            yield deltas[:take], final
            return
        count += chunk
        base = int(ts[-1])
        yield deltas, None


def server_schedule(
    seed: int, qps: float, gen_duration_ns: int, min_queries: int, chunk: int = _DEFAULT_CHUNK
) -> tuple[np.ndarray, int]:
    """Pre-generate the Server Poisson schedule (spec §7 steps 8–9).

    A fresh ``mt19937(seed)`` (the schedule RNG) draws one increment
    ``int(exponential(qps) * 1e9)`` per query; queries are added while
    ``prev < gen_duration_ns or count < min_queries``.  Returns
    ``(deltas, final_timestamp)``: the ``scheduled_delta`` of every query
    (``np.int64``, the first is 0; ``len(deltas)`` = ``generated_query_count``) and
    the timestamp after the last increment (= ``generated_query_duration``).
    For Server ``gen_duration_ns`` is ``target_duration`` (= min_duration) in ns.
    Draws are made ``chunk`` at a time; only the result array grows with the run.
    """
    expected = max(int(min_queries), int(gen_duration_ns * qps / 1e9)) + 1
    cap = min(expected + expected // 64 + 16, max(expected, 1) * 4)
    out = np.empty(cap, dtype=np.int64)
    n = 0
    final = 0
    for deltas, fin in _schedule_chunks(seed, qps, gen_duration_ns, min_queries, chunk):
        k = len(deltas)
        if n + k > len(out):
            grown = np.empty(max(2 * len(out), n + k), dtype=np.int64)
            grown[:n] = out[:n]
            out = grown
        out[n : n + k] = deltas
        n += k
        if fin is not None:
            final = fin
    if len(out) - n > 1024 + n // 16:
        return out[:n].copy(), final
    return out[:n], final


def server_schedule_count(
    seed: int, qps: float, gen_duration_ns: int, min_queries: int, chunk: int = _DEFAULT_CHUNK
) -> tuple[int, int]:
    """``(generated_query_count, generated_query_duration)`` of ``server_schedule``.

    Same loop, but keeps nothing beyond one chunk, so memory is bounded however long
    the schedule is (§16: the count must be known before issuing; the deltas can be
    regenerated lazily afterwards from the same seed).
    """
    n = 0
    final = 0
    for deltas, fin in _schedule_chunks(seed, qps, gen_duration_ns, min_queries, chunk):
        n += len(deltas)
        if fin is not None:
            final = fin
    return n, final
