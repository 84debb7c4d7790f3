"""Sound and text made into what a CNN reads: transformers for a Pipeline before it.

* :class:`Spectrogram`: waveforms to log spectrograms, a ``(time,
  frequency)`` image per clip (short-time Fourier transform with
  :class:`scipy.signal.ShortTimeFFT`, on a mel scale with
  :func:`mel_filter_bank` if asked), which :class:`~skcnn.CNNClassifier`
  reads as a one-channel image: ``make_pipeline(Spectrogram(...),
  CNNClassifier(...))`` classifies sounds.
* :class:`TextVectorizer`: strings to padded sequences of token ids
  (characters or words, the vocabulary learned in ``fit``), which a network
  starting with an ``"embedding"`` layer reads as a 1-D signal of ids:
  ``make_pipeline(TextVectorizer(), CNNClassifier(layers=("embedding:16",
  ...)))`` classifies texts.

Both are plain scikit-learn transformers: they clone, pickle, take part in
grid searches (``spectrogram__n_mels``, ``textvectorizer__max_length``) and
refuse bad input with a ``ValueError`` or ``TypeError`` that says what was
expected, before any work.
"""

import re
from collections import Counter
from numbers import Integral, Real

import numpy as np
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = ["Spectrogram", "TextVectorizer", "mel_filter_bank"]


# --- sound ----------------------------------------------------------------------------


def _hz_to_mel(hz):
    """The mel scale of HTK (O'Shaughnessy, 1987): ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filter_bank(sampling_rate, n_fft, n_mels, fmin=0.0, fmax=None):
    """Triangular filters on the mel scale, as a matrix over the bins of an FFT.

    The ``n_mels`` filters have centres equally spaced on the mel scale
    (HTK's, ``2595 log10(1 + f / 700)``) between ``fmin`` and ``fmax``; each
    rises from its left neighbour's centre to 1 at its own and falls to 0 at
    its right neighbour's, so that the filters overlap by half and add up to
    1 between the first and the last centre. ``power @ bank.T`` gives the
    energy in each band.

    Parameters
    ----------
    sampling_rate : float
        Samples per second of the sound, in Hz.
    n_fft : int
        Length of the FFT: the bins are ``k * sampling_rate / n_fft`` for
        ``k`` from 0 to ``n_fft // 2``.
    n_mels : int
        Number of filters (bands).
    fmin : float, default=0.0
        Lowest frequency, in Hz: the left edge of the first filter.
    fmax : float, default=None
        Highest frequency, in Hz: the right edge of the last filter; by
        default ``sampling_rate / 2``.

    Returns
    -------
    bank : ndarray of shape (n_mels, n_fft // 2 + 1)

    Raises
    ------
    ValueError
        Where the frequencies are out of order or beyond ``sampling_rate /
        2``, or where a filter is so narrow that no FFT bin falls inside it
        (too many mels for the window): its band would always be empty.

    Examples
    --------
    >>> import numpy as np
    >>> from skcnn.preprocessing import mel_filter_bank
    >>> bank = mel_filter_bank(16000, n_fft=400, n_mels=40)
    >>> bank.shape
    (40, 201)
    >>> bool(np.allclose(bank.sum(axis=0)[5:180], 1.0))  # between the first and last centre
    True
    """
    if not (isinstance(n_mels, Integral) and n_mels >= 1):
        raise ValueError(f"n_mels must be an int >= 1; got {n_mels!r}.")
    if not (isinstance(n_fft, Integral) and n_fft >= 2):
        raise ValueError(f"n_fft must be an int >= 2; got {n_fft!r}.")
    nyquist = sampling_rate / 2
    fmax = nyquist if fmax is None else fmax
    if not 0 <= fmin < fmax <= nyquist:
        raise ValueError(
            f"fmin and fmax must satisfy 0 <= fmin < fmax <= sampling_rate / 2 = {nyquist:g} Hz; "
            f"got fmin={fmin!r}, fmax={fmax!r}."
        )
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sampling_rate / n_fft
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - low) / (centre - low)
    falling = (high - bins) / (high - centre)
    bank = np.maximum(0.0, np.minimum(rising, falling))
    empty = np.flatnonzero(bank.max(axis=1) == 0)
    if empty.size:
        width = edges[empty[0] + 2] - edges[empty[0]]
        raise ValueError(
            f"n_mels={n_mels} is too many for a window of {n_fft} samples between fmin={fmin:g} "
            f"and fmax={fmax:g} Hz: {empty.size} filters (the first {width:.3g} Hz wide) hold "
            f"no FFT bin, {sampling_rate / n_fft:.3g} Hz apart, and would always be empty. Use "
            f"fewer n_mels, a longer window_length or a higher fmin."
        )
    return bank


def _is_pair(item):
    """Whether ``item`` is a ``(waveform, rate)`` or ``(rate, waveform)`` tuple."""
    if not (isinstance(item, tuple) and len(item) == 2):
        return False
    scalar = [np.ndim(v) == 0 and isinstance(v, (Real, np.number)) for v in item]
    return scalar.count(True) == 1 and np.ndim(item[scalar.index(False)]) == 1


def _as_float(clip):
    """A waveform as float64: 16- and 32-bit PCM (WAV integers) scaled to [-1, 1)."""
    clip = np.asarray(clip)
    if clip.dtype == np.int16:
        return clip / 2.0**15
    if clip.dtype == np.int32:
        return clip / 2.0**31
    return clip


class Spectrogram(TransformerMixin, BaseEstimator):
    """Waveforms to log spectrograms: a ``(time, frequency)`` image per clip.

    Every clip is cut into overlapping windows (a periodic Hann window of
    ``window_length`` samples, every ``hop_length`` samples, windows wholly
    inside the clip); the power of each window's spectrum, summed in mel
    bands (``n_mels``) or kept per FFT bin between ``fmin`` and ``fmax``,
    is taken in decibels (``scale="db"``) or its natural log, and, with
    ``standardize``, every frequency is centred and scaled by its mean and
    standard deviation over the training clips. The result is an image per
    clip, time down and frequency across, which
    :class:`~skcnn.CNNClassifier` reads as a one-channel image.

    Parameters
    ----------
    sampling_rate : float, default=16000
        Samples per second of the waveforms, in Hz. ``fit`` and
        ``transform`` take the rate of the data as ``sampling_rate=`` too,
        or with every clip as a ``(waveform, rate)`` pair: a rate that
        differs from this one is an error (resample the sound first, for
        example with :func:`scipy.signal.resample_poly`), never a
        spectrogram read at the wrong frequencies.
    duration : float, default=None
        Seconds every clip is made to last: longer clips are cropped (their
        start is kept), shorter ones padded with silence at the end. By
        default the clips are taken as they are: a 2-D array's rows, or a
        list of waveforms of one length (clips of several lengths need a
        ``duration``).
    window_length : int, default=400
        Samples per window, also the length of the FFT (400 samples: 25 ms
        at 16 kHz).
    hop_length : int, default=160
        Samples from one window to the next (10 ms at 16 kHz).
    n_mels : int or None, default=40
        Mel bands (see :func:`mel_filter_bank`); ``None`` keeps every FFT
        bin between ``fmin`` and ``fmax``.
    fmin : float, default=0.0
        Lowest frequency, in Hz.
    fmax : float, default=None
        Highest frequency, in Hz; by default ``sampling_rate / 2``.
    scale : {"db", "log"}, default="db"
        ``10 log10(power + log_offset)`` (decibels) or ``log(power +
        log_offset)``.
    log_offset : float, default=1e-10
        Added to the power before the log, so that silence gives a finite
        floor (-100 dB) rather than minus infinity.
    standardize : bool, default=True
        Centre and scale every frequency by its mean and standard deviation
        over the training windows (``mean_``, ``scale_``), so that the
        network gets inputs near unit scale.

    Attributes
    ----------
    n_samples_ : int
        Samples every clip has when it is transformed.
    n_frames_ : int
        Windows per clip: ``1 + (n_samples_ - window_length) // hop_length``.
    frequencies_ : ndarray of shape (n_frequencies,)
        The centre of every mel band, or the frequency of every FFT bin, in Hz.
    mean_, scale_ : ndarray of shape (n_frequencies,)
        What ``standardize`` subtracts and divides by (``None`` without it).
    n_features_in_ : int
        Samples per clip of a 2-D ``X`` at ``fit`` (not set for lists).

    See Also
    --------
    mel_filter_bank : The filters of the mel bands.
    TextVectorizer : Strings to sequences of token ids.

    Notes
    -----
    ``X`` is a 2-D array ``(n_clips, n_samples)``, a list of 1-D waveforms
    (of one length, or of any with ``duration``), or a list of
    ``(waveform, rate)`` pairs (as ``soundfile.read`` gives them) or
    ``(rate, waveform)`` pairs (as :func:`scipy.io.wavfile.read`). int16
    and int32 waveforms (WAV's PCM) are scaled to [-1, 1). ``transform``
    gives an array of shape ``(n_clips, n_frames_, n_frequencies)``, where
    ``n_frequencies`` is ``n_mels`` or the number of FFT bins between
    ``fmin`` and ``fmax``. The output is 3-D, so there are no feature names
    (``get_feature_names_out``): it is an image per clip, not a table.

    Examples
    --------
    >>> import numpy as np
    >>> from skcnn.preprocessing import Spectrogram
    >>> t = np.arange(8000) / 8000
    >>> tones = np.array([np.sin(2 * np.pi * f * t) for f in (440, 880, 1760)])
    >>> spectrogram = Spectrogram(sampling_rate=8000, window_length=200, hop_length=80,
    ...                           n_mels=20).fit(tones)
    >>> spectrogram.transform(tones).shape
    (3, 98, 20)
    >>> spectrogram.transform(tones, sampling_rate=16000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X was recorded at 16000 Hz, but this Spectrogram reads sound at ...
    """

    _parameter_constraints: dict = {
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "duration": [None, Interval(Real, 0, None, closed="neither")],
        "window_length": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [None, Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [None, Interval(Real, 0, None, closed="neither")],
        "scale": [StrOptions({"db", "log"})],
        "log_offset": [Interval(Real, 0, None, closed="neither")],
        "standardize": ["boolean"],
    }

    def __init__(
        self,
        sampling_rate=16000,
        *,
        duration=None,
        window_length=400,
        hop_length=160,
        n_mels=40,
        fmin=0.0,
        fmax=None,
        scale="db",
        log_offset=1e-10,
        standardize=True,
    ):
        self.sampling_rate = sampling_rate
        self.duration = duration
        self.window_length = window_length
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.scale = scale
        self.log_offset = log_offset
        self.standardize = standardize

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    # --- the clips -------------------------------------------------------------------

    def _check_rate(self, rate, what="X", name="sampling_rate"):
        """Refuse a rate (of ``what``, given as ``name``) other than ``self.sampling_rate``."""
        if rate is None:
            return
        if not (isinstance(rate, (Real, np.number)) and not isinstance(rate, bool) and rate > 0):
            raise TypeError(f"{name} must be a positive number of Hz; got {rate!r}.")
        if not np.isclose(rate, self.sampling_rate, rtol=1e-9, atol=0):
            raise ValueError(
                f"{what} was recorded at {rate:g} Hz, but this Spectrogram reads sound at "
                f"sampling_rate={self.sampling_rate:g} Hz: its frequencies would be read wrong. "
                f"Resample the sound to {self.sampling_rate:g} Hz (scipy.signal.resample_poly), "
                f"or set sampling_rate={rate:g} (and fit again)."
            )

    def _waveforms(self, X, sampling_rate, reset):
        """``X`` as a 2-D float array of clips of one length, rates checked."""
        self._check_rate(sampling_rate)
        if isinstance(X, (list, tuple)) and any(_is_pair(item) for item in X):
            if not all(_is_pair(item) for item in X):
                raise ValueError(
                    "X mixes (waveform, rate) pairs with bare waveforms; give every clip "
                    "with its rate, or none."
                )
            clips = []
            for i, item in enumerate(X):
                rate_first = np.ndim(item[0]) == 0
                rate, clip = item if rate_first else item[::-1]
                self._check_rate(rate, f"X[{i}]", f"the rate of X[{i}]")
                clips.append(clip)
            X = clips
        ragged = isinstance(X, (list, tuple)) and len({np.shape(clip) for clip in X}) > 1
        if ragged:
            return self._ragged(X, reset)
        if isinstance(X, (list, tuple)) and X and np.ndim(X[0]) == 1:
            X = np.stack([_as_float(clip) for clip in X])
        else:
            X = _as_float(X) if isinstance(X, np.ndarray) else X
        check_n = reset or self.duration is None
        if check_n:
            X = validate_data(self, X, reset=reset, dtype=np.float64)
        else:
            X = check_array(X, dtype=np.float64)
        return self._to_duration(X)

    def _ragged(self, X, reset):
        """A list of 1-D clips of several lengths, each checked, to ``duration``."""
        lengths = []
        clips = []
        for i, clip in enumerate(X):
            if np.ndim(clip) != 1:
                raise ValueError(
                    f"X[{i}] must be a 1-D waveform; got an array of shape {np.shape(clip)}."
                )
            try:
                checked = check_array(
                    _as_float(clip).reshape(1, -1), dtype=np.float64, input_name=f"X[{i}]"
                )
            except ValueError as exc:
                raise ValueError(f"X[{i}]: {exc}") from None
            clips.append(checked[0])
            lengths.append(len(checked[0]))
        if self.duration is None:
            raise ValueError(
                f"X holds clips of different lengths (from {min(lengths)} to {max(lengths)} "
                f"samples); set duration (in seconds) to pad or crop them to one length."
            )
        if reset and hasattr(self, "n_features_in_"):
            del self.n_features_in_
        n = self._target_samples()
        out = np.zeros((len(clips), n))
        for row, clip in zip(out, clips):
            row[: min(n, len(clip))] = clip[:n]
        return out

    def _target_samples(self):
        return max(1, int(round(self.duration * self.sampling_rate)))

    def _to_duration(self, X):
        if self.duration is None:
            return X
        n = self._target_samples()
        if X.shape[1] >= n:
            return X[:, :n]
        return np.pad(X, [(0, 0), (0, n - X.shape[1])])

    # --- the spectrum ------------------------------------------------------------------

    def _check_frequencies(self):
        nyquist = self.sampling_rate / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if not self.fmin < fmax <= nyquist:
            raise ValueError(
                f"fmin and fmax must satisfy fmin < fmax <= sampling_rate / 2 = {nyquist:g} Hz; "
                f"got fmin={self.fmin!r}, fmax={self.fmax!r}."
            )
        return fmax

    def _frequency_map(self):
        """The bank (or the bins kept) and their frequencies in Hz."""
        fmax = self._check_frequencies()
        bins = np.arange(self.window_length // 2 + 1) * self.sampling_rate / self.window_length
        if self.n_mels is None:
            keep = np.flatnonzero((bins >= self.fmin) & (bins <= fmax))
            if keep.size == 0:
                raise ValueError(
                    f"no FFT bin lies between fmin={self.fmin:g} and fmax={fmax:g} Hz (the bins "
                    f"are {self.sampling_rate / self.window_length:.3g} Hz apart); widen the "
                    f"range or use a longer window_length."
                )
            return keep, bins[keep]
        bank = mel_filter_bank(self.sampling_rate, self.window_length, self.n_mels, self.fmin, fmax)
        centres = _mel_to_hz(
            np.linspace(_hz_to_mel(self.fmin), _hz_to_mel(fmax), self.n_mels + 2)[1:-1]
        )
        return bank, centres

    def _log_spectrogram(self, X, frequency_map):
        n_samples = X.shape[1]
        if n_samples < self.window_length:
            seconds = n_samples / self.sampling_rate
            raise ValueError(
                f"the clips have {n_samples} samples ({seconds * 1000:.3g} ms at "
                f"{self.sampling_rate:g} Hz), fewer than one window of window_length="
                f"{self.window_length} samples; use a shorter window_length"
                + (" or a longer duration." if self.duration is not None else " or set duration.")
            )
        stft = ShortTimeFFT(
            hann(self.window_length, sym=False), self.hop_length, self.sampling_rate
        )
        n_frames = 1 + (n_samples - self.window_length) // self.hop_length
        # Windows wholly inside the clip: window p covers samples p*hop .. p*hop + length.
        spectrum = stft.stft(X, p0=0, p1=n_frames, k_offset=stft.m_num_mid)
        power = np.abs(spectrum) ** 2  # (n_clips, n_bins, n_frames)
        power = np.swapaxes(power, 1, 2)  # time down, frequency across
        # FFT bins kept, or summed in mel bands
        power = power[:, :, frequency_map] if self.n_mels is None else power @ frequency_map.T
        power += self.log_offset
        return 10.0 * np.log10(power) if self.scale == "db" else np.log(power)

    # --- the transformer ---------------------------------------------------------------

    def fit(self, X, y=None, sampling_rate=None):
        """Learn the frequencies and, with ``standardize``, their means and scales.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples), or list of waveforms or pairs
            The training sound (see the class's Notes).
        y : None
            Ignored.
        sampling_rate : float, default=None
            The rate of ``X``, in Hz, checked against ``self.sampling_rate``.

        Returns
        -------
        self : Spectrogram
        """
        self._validate_params()
        X = self._waveforms(X, sampling_rate, reset=True)
        frequency_map, frequencies = self._frequency_map()
        images = self._log_spectrogram(X, frequency_map)
        self.n_samples_ = X.shape[1]
        self.n_frames_ = images.shape[1]
        self.frequencies_ = frequencies
        if self.standardize:
            windows = images.reshape(-1, images.shape[2])
            self.mean_ = windows.mean(axis=0)
            spread = windows.std(axis=0)
            self.scale_ = np.where(spread > 0, spread, 1.0)  # a constant band stays put
        else:
            self.mean_ = self.scale_ = None
        self._frequency_map_ = frequency_map
        return self

    def transform(self, X, sampling_rate=None):
        """The log spectrogram of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples), or list of waveforms or pairs
            Sound at ``self.sampling_rate`` (see the class's Notes).
        sampling_rate : float, default=None
            The rate of ``X``, in Hz, checked against ``self.sampling_rate``.

        Returns
        -------
        images : ndarray of shape (n_clips, n_frames, n_frequencies)
            Time down, frequency across.
        """
        check_is_fitted(self)
        X = self._waveforms(X, sampling_rate, reset=False)
        if X.shape[1] != self.n_samples_:
            raise ValueError(
                f"X has clips of {X.shape[1]} samples, but this Spectrogram was fitted on clips "
                f"of {self.n_samples_}; set duration to pad or crop every clip to one length."
            )
        images = self._log_spectrogram(X, self._frequency_map_)
        if self.standardize:
            images -= self.mean_
            images /= self.scale_
        return images

    def fit_transform(self, X, y=None, sampling_rate=None):
        """:meth:`fit`, then :meth:`transform` of the same ``X``.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples), or list of waveforms or pairs
        y : None
            Ignored.
        sampling_rate : float, default=None

        Returns
        -------
        images : ndarray of shape (n_clips, n_frames, n_frequencies)
        """
        return self.fit(X, y, sampling_rate=sampling_rate).transform(X, sampling_rate=sampling_rate)


# --- text -----------------------------------------------------------------------------

#: Words: runs of letters, digits and underscores, in any script.
_WORD = re.compile(r"\w+")

#: Id 0 pads every sequence to ``max_length``; id 1 stands for every token the
#: vocabulary does not hold.
PADDING_ID, UNKNOWN_ID = 0, 1


class TextVectorizer(TransformerMixin, BaseEstimator):
    """Strings to padded sequences of token ids, for a network that starts with an embedding.

    ``fit`` learns a vocabulary of the tokens of the training texts
    (characters or words), the most frequent first; ``transform`` gives
    every text as the ids of its tokens, padded with 0 to ``max_length``.
    Id 0 is padding, id 1 every token the vocabulary does not hold
    (unseen, rarer than ``min_frequency``, or beyond ``max_tokens``), the
    vocabulary's tokens 2 and on. :class:`~skcnn.CNNClassifier` reads the
    result as a 1-D signal of ids, which an ``"embedding"`` layer turns into
    learned vectors (``n_tokens_`` is the size of its table).

    Parameters
    ----------
    analyzer : {"char", "word"} or callable, default="char"
        Tokens are the characters of a text, its words (runs of letters,
        digits and underscores), or what a callable ``analyzer(text)`` gives
        as a list of strings.
    lowercase : bool, default=True
        Lower-case the texts before splitting them.
    max_length : int, default=None
        Tokens per sequence. A longer text keeps its first ``max_length``
        tokens (the rest is cut off), a shorter one is padded with 0 at the
        end. By default the length of the longest training text
        (``max_length_``), so that no training text is cut.
    min_frequency : int, default=1
        Tokens seen fewer times in the training texts get the unknown id.
    max_tokens : int, default=None
        Keep at most this many tokens, the most frequent (ties in order of
        the tokens); the others get the unknown id.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Every token the vocabulary holds and its id (2 and on), the most
        frequent first.
    n_tokens_ : int
        Ids a sequence can hold, padding and unknown included:
        ``len(vocabulary_) + 2``, the size of an embedding's table.
    max_length_ : int
        Tokens per sequence.

    See Also
    --------
    Spectrogram : Waveforms to log spectrograms.

    Notes
    -----
    Tokens are counted as ``transform`` keeps them: only the first
    ``max_length`` of every training text count, so that every id of the
    vocabulary appears in the transformed training texts, and a network
    whose embedding learns its table size from them (``"embedding:16"``)
    has a row for every id ``transform`` gives later.

    Examples
    --------
    >>> from skcnn.preprocessing import TextVectorizer
    >>> vectorizer = TextVectorizer(max_length=6).fit(["banana", "band"])
    >>> vectorizer.vocabulary_
    {'a': 2, 'n': 3, 'b': 4, 'd': 5}
    >>> vectorizer.transform(["bad", "cabbages"])
    array([[4, 2, 5, 0, 0, 0],
           [1, 2, 4, 4, 2, 1]], dtype=int32)
    >>> vectorizer.inverse_transform([[4, 2, 5, 0, 0, 0]])
    ['bad']
    """

    _parameter_constraints: dict = {
        "analyzer": [StrOptions({"char", "word"}), callable],
        "lowercase": ["boolean"],
        "max_length": [None, Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_tokens": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, analyzer="char", *, lowercase=True, max_length=None, min_frequency=1, max_tokens=None
    ):
        self.analyzer = analyzer
        self.lowercase = lowercase
        self.max_length = max_length
        self.min_frequency = min_frequency
        self.max_tokens = max_tokens

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = False
        return tags

    def _texts(self, X):
        """``X`` as a list of strings: one text per sample."""
        if isinstance(X, (str, bytes)):
            raise ValueError(
                "X must be a sequence of strings, one text per sample; got a single string. "
                "Wrap it in a list: [text]."
            )
        if hasattr(X, "ndim") and X.ndim == 2 and X.shape[1] == 1:  # a column of a table
            X = np.asarray(X)[:, 0]
        elif hasattr(X, "ndim") and X.ndim != 1:
            raise ValueError(
                f"X must be a sequence of strings, one text per sample (or a single column); "
                f"got an array of shape {X.shape}."
            )
        try:
            texts = list(X)
        except TypeError:
            raise TypeError(
                f"X must be a sequence of strings, one text per sample; got {type(X).__name__}."
            ) from None
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(
                    f"X must hold strings, one text per sample; X[{i}] is "
                    f"{type(text).__name__} ({text!r}). Fill missing texts first (for example "
                    f"with ''), or convert them with str."
                )
        if not texts:
            raise ValueError(
                "X is empty: TextVectorizer needs at least one text (a list of strings) to learn "
                "a vocabulary."
            )
        return texts

    def _tokens(self, text):
        if self.lowercase:
            text = text.lower()
        if self.analyzer == "char":
            return list(text)
        if self.analyzer == "word":
            return _WORD.findall(text)
        tokens = self.analyzer(text)
        if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
            raise TypeError(
                f"analyzer must return a list of strings (the tokens of a text); it returned "
                f"{tokens!r} for {text[:40]!r}."
            )
        return list(tokens)

    def fit(self, X, y=None):
        """Learn the vocabulary and ``max_length_`` of the training texts.

        Parameters
        ----------
        X : sequence of str of length n_samples
            A list, array or pandas Series of texts (or a table of one column).
        y : None
            Ignored.

        Returns
        -------
        self : TextVectorizer
        """
        self._validate_params()
        tokenized = [self._tokens(text) for text in self._texts(X)]
        longest = max(len(tokens) for tokens in tokenized)
        if longest == 0:
            raise ValueError(
                f"X holds no tokens: its {len(tokenized)} texts are empty"
                + (" or hold no words" if self.analyzer == "word" else "")
                + "; TextVectorizer needs some to learn a vocabulary."
            )
        max_length = longest if self.max_length is None else self.max_length
        counts = Counter(token for tokens in tokenized for token in tokens[:max_length])
        kept = sorted(
            (token for token, count in counts.items() if count >= self.min_frequency),
            key=lambda token: (-counts[token], token),
        )
        if self.max_tokens is not None:
            kept = kept[: self.max_tokens]
        self.vocabulary_ = {token: UNKNOWN_ID + 1 + i for i, token in enumerate(kept)}
        self.n_tokens_ = len(self.vocabulary_) + 2
        self.max_length_ = max_length
        return self

    def transform(self, X):
        """Every text as the ids of its first ``max_length_`` tokens, padded with 0.

        Parameters
        ----------
        X : sequence of str of length n_samples

        Returns
        -------
        ids : ndarray of shape (n_samples, max_length), dtype int32
        """
        check_is_fitted(self)
        texts = self._texts(X)
        ids = np.zeros((len(texts), self.max_length_), dtype=np.int32)
        vocabulary = self.vocabulary_
        for row, text in zip(ids, texts):
            tokens = self._tokens(text)[: self.max_length_]
            row[: len(tokens)] = [vocabulary.get(token, UNKNOWN_ID) for token in tokens]
        return ids

    def inverse_transform(self, X):
        """The texts of sequences of ids: tokens joined (by spaces for words).

        Padding is left out; the unknown id reads as ``"\N{REPLACEMENT CHARACTER}"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, length) of int

        Returns
        -------
        texts : list of str
        """
        check_is_fitted(self)
        X = check_array(X, dtype=None)
        if not np.issubdtype(X.dtype, np.integer) and not np.array_equal(X, np.round(X)):
            raise ValueError("X must hold token ids, whole numbers, as transform gives them.")
        X = X.astype(np.int64)
        if X.size and (X.min() < 0 or X.max() >= self.n_tokens_):
            raise ValueError(
                f"X must hold ids from 0 to {self.n_tokens_ - 1} (n_tokens_ - 1); it holds "
                f"{X.min() if X.min() < 0 else X.max()}."
            )
        tokens = np.array(["", "\N{REPLACEMENT CHARACTER}", *self.vocabulary_], dtype=object)
        separator = "" if self.analyzer == "char" else " "
        return [separator.join(tokens[row[row != PADDING_ID]]) for row in X]

    def get_feature_names_out(self, input_features=None):
        """A name per position of the sequences: ``"token0"``, ``"token1"``, ...

        Parameters
        ----------
        input_features : None
            Ignored: the input is text, one column at most.

        Returns
        -------
        feature_names_out : ndarray of str objects of shape (max_length,)
        """
        check_is_fitted(self)
        return np.array([f"token{i}" for i in range(self.max_length_)], dtype=object)
