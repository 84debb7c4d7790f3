"""Sound and text for a CNN: Spectrogram and TextVectorizer, alone and in pipelines."""

import io
import pickle
import warnings

import numpy as np
import pytest
from scipy.io import wavfile
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupShuffleSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import skcnn
from skcnn import CNNClassifier
from skcnn.datasets import load_spoken_digits, load_words
from skcnn.preprocessing import Spectrogram, TextVectorizer, mel_filter_bank

RATE = 8000


@pytest.fixture(scope="module")
def spoken():
    return load_spoken_digits()


def tone(frequency, seconds=0.5, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    return np.sin(2 * np.pi * frequency * t)


# --- Spectrogram ---------------------------------------------------------------------


def test_spectrogram_matches_a_direct_computation(spoken):
    # Windows by hand, numpy's rfft, the power in dB: the independent reference.
    X, _, _ = spoken
    clips = np.stack([clip[:2000] for clip in X[:3]])
    length, hop = 256, 100
    out = Spectrogram(
        RATE, window_length=length, hop_length=hop, n_mels=None, standardize=False
    ).fit_transform(clips)
    n_frames = 1 + (2000 - length) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)  # periodic Hann
    frames = np.stack([clips[:, p * hop : p * hop + length] for p in range(n_frames)], axis=1)
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    np.testing.assert_allclose(out, 10 * np.log10(power + 1e-10), rtol=1e-9, atol=1e-6)
    assert out.shape == (3, n_frames, length // 2 + 1)


def test_a_tone_lights_its_mel_band_and_its_bin():
    spectrogram = Spectrogram(
        RATE, window_length=200, hop_length=80, n_mels=30, standardize=False
    ).fit(tone(440)[np.newaxis])
    for frequency in (300, 1000, 2500):
        image = spectrogram.transform(tone(frequency)[np.newaxis])[0]
        nearest = np.argmin(np.abs(spectrogram.frequencies_ - frequency))
        assert abs(int(np.argmax(image.mean(axis=0))) - nearest) <= 1
    linear = Spectrogram(
        RATE, window_length=200, n_mels=None, fmin=500, fmax=2000, standardize=False
    )
    image = linear.fit_transform(tone(1000)[np.newaxis])[0]
    assert linear.frequencies_[0] == 520 and linear.frequencies_[-1] == 2000
    assert linear.frequencies_[np.argmax(image.mean(axis=0))] == 1000


def test_mel_filter_bank_shape_and_partition():
    bank = mel_filter_bank(RATE, 256, 24, fmin=100, fmax=3800)
    assert bank.shape == (24, 129)
    bins = np.arange(129) * RATE / 256
    centres = bins[np.argmax(bank, axis=1)]
    assert np.all(np.diff(centres) > 0)  # centres rise with the band
    inside = (bins > centres[0]) & (bins < centres[-1])
    np.testing.assert_allclose(bank.sum(axis=0)[inside], 1.0, atol=1e-12)
    assert np.all(bank[:, bins < 100] == 0) and np.all(bank[:, bins > 3800] == 0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mel_filter_bank(RATE, 64, 40), r"n_mels=40 is too many for a window of 64"),
        (lambda: mel_filter_bank(RATE, 256, 10, fmin=3000, fmax=2000), r"0 <= fmin < fmax"),
        (lambda: mel_filter_bank(RATE, 256, 10, fmax=5000), r"sampling_rate / 2 = 4000"),
    ],
)
def test_mel_filter_bank_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sampling_rates_that_differ_are_refused(spoken):
    X, _, _ = spoken
    clips = np.stack([clip[:1600] for clip in X[:4]])
    spectrogram = Spectrogram(RATE, window_length=200)
    with pytest.raises(ValueError, match=r"X was recorded at 16000 Hz, but .* 8000 Hz"):
        spectrogram.fit(clips, sampling_rate=16000)
    spectrogram.fit(clips, sampling_rate=RATE)
    with pytest.raises(ValueError, match=r"X\[1\] was recorded at 22050 Hz"):
        spectrogram.transform([(clips[0], RATE), (clips[1], 22050)])
    with pytest.raises(ValueError, match=r"mixes \(waveform, rate\) pairs with bare"):
        spectrogram.transform([(clips[0], RATE), clips[1]])
    with pytest.raises(TypeError, match=r"sampling_rate must be a positive number"):
        spectrogram.transform(clips, sampling_rate="8k")
    # Through a pipeline: the old way of fit parameters, and metadata routing.
    pipe = make_pipeline(Spectrogram(RATE, window_length=200), CNNClassifier(max_iter=1))
    with pytest.raises(ValueError, match="X was recorded at 16000 Hz"):
        pipe.fit(clips, [0, 1, 0, 1], spectrogram__sampling_rate=16000)
    with config_context(enable_metadata_routing=True):
        routed = make_pipeline(
            Spectrogram(RATE, window_length=200)
            .set_fit_request(sampling_rate=True)
            .set_transform_request(sampling_rate=True),
            CNNClassifier(max_iter=1),
        )
        with pytest.raises(ValueError, match="X was recorded at 11025 Hz"):
            routed.fit(clips, [0, 1, 0, 1], sampling_rate=11025)


def test_pairs_from_wav_files_and_pcm_integers(spoken):
    # scipy.io.wavfile.read gives (rate, int16 data); soundfile gives (data, rate).
    X, _, _ = spoken
    clip = np.round(X[0][:2400] * 32767).astype(np.int16)
    buffer = io.BytesIO()
    wavfile.write(buffer, RATE, clip)
    buffer.seek(0)
    rate, data = wavfile.read(buffer)
    spectrogram = Spectrogram(RATE, window_length=200).fit([clip / 2**15])
    expected = spectrogram.transform([clip / 2**15])
    np.testing.assert_allclose(spectrogram.transform([(rate, data)]), expected)
    np.testing.assert_allclose(spectrogram.transform([(data / 2**15, rate)]), expected)
    np.testing.assert_allclose(spectrogram.transform(data[np.newaxis]), expected)


def test_clips_of_different_lengths_need_a_duration(spoken):
    X, _, _ = spoken
    with pytest.raises(ValueError, match=r"clips of different lengths \(from \d+ to \d+ samples"):
        Spectrogram(RATE, window_length=200).fit(X)
    spectrogram = Spectrogram(RATE, duration=0.5, window_length=200, hop_length=80)
    images = spectrogram.fit_transform(X)
    assert images.shape == (len(X), 1 + (4000 - 200) // 80, 40)
    assert spectrogram.n_samples_ == 4000 and spectrogram.n_frames_ == images.shape[1]
    # Padded with silence at the end, cropped keeping the start.
    short, long = np.argmin([len(c) for c in X]), np.argmax([len(c) for c in X])
    padded = np.zeros(4000)
    padded[: len(X[short])] = X[short]
    np.testing.assert_allclose(spectrogram.transform([padded]), images[[short]])
    np.testing.assert_allclose(spectrogram.transform([X[long][:4000]]), images[[long]])
    assert np.isfinite(images).all()
    assert abs(images.mean()) < 1e-6  # standardized on the training windows
    with pytest.raises(ValueError, match=r"X has 3000 features, but Spectrogram is expecting 4000"):
        Spectrogram(RATE, window_length=200).fit(np.zeros((2, 4000))).transform(np.zeros((2, 3000)))


@pytest.mark.parametrize(
    "params, X, match",
    [
        (
            {"window_length": 400},
            np.zeros((2, 300)),
            r"300 samples \(37.5 ms at 8000 Hz\), fewer "
            r"than one window of window_length=400",
        ),
        ({"duration": 0.01}, np.zeros((2, 300)), r"or a longer duration"),
        ({"fmin": 3000, "fmax": 1000}, np.zeros((2, 800)), r"fmin < fmax"),
        ({"n_mels": 200}, np.zeros((2, 800)), r"n_mels=200 is too many"),
        ({"n_mels": None, "fmin": 10, "fmax": 15}, np.zeros((2, 800)), r"no FFT bin lies between"),
        ({"scale": "bel"}, np.zeros((2, 800)), r"'scale' parameter of Spectrogram must be"),
        ({}, [np.zeros(800), np.zeros((2, 800))], r"X\[1\] must be a 1-D waveform"),
        ({"duration": 0.1}, [np.zeros(800), np.full(900, np.nan)], r"X\[1\].*NaN"),
    ],
)
def test_spectrogram_errors(params, X, match):
    with pytest.raises(ValueError, match=match):
        Spectrogram(RATE, **params).fit(X)


def test_spectrogram_survives_pickling_and_clone(spoken):
    X, _, _ = spoken
    spectrogram = Spectrogram(RATE, duration=0.4, window_length=200, n_mels=20).fit(X[:20])
    loaded = pickle.loads(pickle.dumps(spectrogram))
    np.testing.assert_array_equal(loaded.transform(X[20:30]), spectrogram.transform(X[20:30]))
    assert clone(spectrogram).get_params() == spectrogram.get_params()


def noisy_copies(clips, copies, rng):
    """Every clip ``copies`` times, delayed by up to 0.1 s, in white noise (SNR ~ 25 dB)."""
    out = []
    for clip in clips:
        for _ in range(copies):
            delayed = np.concatenate([np.zeros(rng.integers(0, RATE // 10)), clip])
            out.append(delayed + rng.normal(0, 0.02, len(delayed)))
    return out


@pytest.mark.slow
def test_spoken_digits_in_a_grid_search_on_new_speakers(spoken):
    # Digits of 4 speakers the pipeline never heard, after a search over the mel bands.
    X, y, speaker = spoken
    train, test = next(GroupShuffleSplit(1, test_size=4, random_state=0).split(X, y, speaker))
    rng = np.random.default_rng(0)
    X_train = noisy_copies([X[i] for i in train], 2, rng)
    y_train = np.repeat(y[train], 2)
    pipe = make_pipeline(
        Spectrogram(RATE, duration=0.7, window_length=200, hop_length=120),
        CNNClassifier(
            filters=(8, 16),
            hidden_layer_sizes=(),
            learning_rate_init=0.003,
            batch_size=16,
            max_iter=12,
            random_state=0,
        ),
    )
    search = GridSearchCV(pipe, {"spectrogram__n_mels": [16, 24]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    assert search.best_params_["spectrogram__n_mels"] in (16, 24)
    accuracy = search.score(noisy_copies([X[i] for i in test], 1, rng), y[test])
    assert accuracy > 0.6  # chance: 0.1


# --- TextVectorizer ------------------------------------------------------------------


def test_ids_padding_truncation_and_unknown_tokens():
    vectorizer = TextVectorizer(max_length=5).fit(["abcab", "aab", "cabbage"])
    # Counted in the first 5 tokens of every text: a 5 times, b 5, c 2; "cabba|ge" cut.
    assert vectorizer.vocabulary_ == {"a": 2, "b": 3, "c": 4}
    assert vectorizer.n_tokens_ == 5 and vectorizer.max_length_ == 5
    np.testing.assert_array_equal(
        vectorizer.transform(["ab", "Badge", "abcabcab", ""]),
        [[2, 3, 0, 0, 0], [3, 2, 1, 1, 1], [2, 3, 4, 2, 3], [0, 0, 0, 0, 0]],
    )
    assert vectorizer.inverse_transform([[2, 3, 1, 0, 0]]) == ["ab\N{REPLACEMENT CHARACTER}"]
    # By default max_length is the longest training text: none of them is cut.
    assert TextVectorizer().fit(["abcab", "aab", "cabbage"]).max_length_ == 7


def test_words_frequency_and_size_of_the_vocabulary():
    texts = ["the cat sat", "the dog sat down", "The cat, the hat"]
    words = TextVectorizer("word").fit(texts)
    assert words.vocabulary_ == {"the": 2, "cat": 3, "sat": 4, "dog": 5, "down": 6, "hat": 7}
    np.testing.assert_array_equal(words.transform(["the bird sat"]), [[2, 1, 4, 0]])
    frequent = TextVectorizer("word", min_frequency=2).fit(texts)
    assert frequent.vocabulary_ == {"the": 2, "cat": 3, "sat": 4}
    capped = TextVectorizer("word", max_tokens=2, lowercase=False).fit(texts)
    assert capped.vocabulary_ == {"the": 2, "cat": 3}
    assert capped.inverse_transform(capped.transform(["The cat"])) == [
        "\N{REPLACEMENT CHARACTER} cat"
    ]
    bigrams = TextVectorizer(lambda text: [text[i : i + 2] for i in range(len(text) - 1)])
    assert bigrams.fit(["abab"]).vocabulary_ == {"ab": 2, "ba": 3}


@pytest.mark.parametrize(
    "X, error, match",
    [
        ([], ValueError, r"X is empty: TextVectorizer needs at least one text"),
        (["", ""], ValueError, r"X holds no tokens: its 2 texts are empty"),
        ("some text", ValueError, r"got a single string. Wrap it in a list"),
        (["fine", None], TypeError, r"X\[1\] is NoneType \(None\)"),
        (["fine", 3.5], TypeError, r"X\[1\] is float"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, r"got an array of shape \(2, 2\)"),
        (5, TypeError, r"got int"),
    ],
)
def test_text_vectorizer_errors(X, error, match):
    with pytest.raises(error, match=match):
        TextVectorizer().fit(X)


def test_text_vectorizer_api_checks_that_need_no_numeric_data():
    # scikit-learn's estimator checks feed numeric arrays, which do not apply to
    # text (the string input tag skips them): these are the ones that need no data.
    for check in (
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ):
        check("TextVectorizer", TextVectorizer())


def test_text_vectorizer_column_pickle_and_pandas_output():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"word": ["haus", "maison", "casa"]})
    vectorizer = TextVectorizer(max_length=4).fit(frame)  # a table of one column
    np.testing.assert_array_equal(vectorizer.transform(frame["word"]), vectorizer.transform(frame))
    fitted = vectorizer.transform(["casa"])
    assert (
        vectorizer.fit(["haus", "maison", "casa"]).transform(["casa"]).tolist() == fitted.tolist()
    )
    loaded = pickle.loads(pickle.dumps(vectorizer))
    np.testing.assert_array_equal(loaded.transform(frame), vectorizer.transform(frame))
    table = vectorizer.set_output(transform="pandas").transform(frame)
    assert list(table.columns) == ["token0", "token1", "token2", "token3"]


def test_strings_given_to_a_cnn_name_the_vectorizer():
    with pytest.raises(ValueError, match=r"skcnn.preprocessing.TextVectorizer in a Pipeline"):
        CNNClassifier().fit(np.array([["haus"], ["casa"]]), [0, 1])


def text_cnn(**kwargs):
    branches = ("parallel", *((f"conv:32:{w}", "relu", "gmp") for w in (2, 3, 4)))
    return CNNClassifier(
        layers=("embedding:16", branches),
        learning_rate_init=0.003,
        batch_size=32,
        random_state=0,
        **kwargs,
    )


@pytest.mark.slow
def test_the_language_of_a_word_in_a_grid_search():
    words, language = load_words(["english", "german", "italian"])
    train_words, test_words, train_y, test_y = train_test_split(
        words, language, train_size=1200, test_size=600, random_state=0, stratify=language
    )
    pipe = make_pipeline(TextVectorizer(max_length=16), text_cnn(max_iter=6))
    search = GridSearchCV(pipe, {"textvectorizer__max_length": [8, 16]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no InputScaleWarning for ids either
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(train_words, train_y)
    assert search.score(test_words, test_y) > 0.75  # chance: 1/3
    model = search.best_estimator_
    assert model[-1].parameters_["embedding1.weights"].shape[0] == model[0].n_tokens_
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(test_words), model.predict_proba(test_words))
    # New letters get the unknown id, which the embedding's table holds.
    assert loaded.predict(["ЖЖЖ", "ßüß"]).shape == (2,)


def test_pipelines_load_with_skops_trusting_skcnn_alone(spoken):
    sio = pytest.importorskip("skops.io")
    X, y, _ = spoken
    words, language = load_words(["french", "german"])
    models = [
        make_pipeline(
            Spectrogram(RATE, duration=0.5, window_length=200, n_mels=16),
            CNNClassifier(filters=(4,), hidden_layer_sizes=(), max_iter=1, random_state=0),
        ).fit(X[:30], y[:30]),
        make_pipeline(
            TextVectorizer(max_length=8),
            CNNClassifier(layers=("embedding:4", "gmp"), max_iter=1, random_state=0),
        ).fit(words[::40], language[::40]),
    ]
    for model, inputs in zip(models, (X[30:40], words[1::40])):
        saved = sio.dumps(model)
        untrusted = set(sio.get_untrusted_types(data=saved))
        assert untrusted == {
            f"{type(step).__module__}.{type(step).__name__}" for _, step in model.steps
        }
        assert untrusted <= set(skcnn.TRUSTED_TYPES)
        loaded = sio.loads(saved, trusted=skcnn.TRUSTED_TYPES)
        np.testing.assert_array_equal(loaded.predict_proba(inputs), model.predict_proba(inputs))
