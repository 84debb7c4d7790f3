"""Make the two small data sets that ship in skcnn/data/, from what Debian ships.

    python tools/make_datasets.py words          # skcnn/data/words.tsv.gz
    python tools/make_datasets.py spoken-digits  # skcnn/data/spoken_digits.npz

``words``: 2,000 words drawn at random (seed 0) from each of the word lists
of the Debian packages wamerican, wngerman, wfrench, wspanish and witalian
(``/usr/share/dict/``), lower-cased; words with an apostrophe (English
possessives, French elisions) or a digit are left out, and so are words
that are in more than one list, whose language the letters cannot tell.
Lines are ``language<TAB>word``, sorted.

``spoken-digits``: the words "zero" to "nine" spoken by espeak-ng (Debian's
``espeak-ng``), a formant synthesizer, by 14 synthetic speakers: an English
accent, a voice variant, a pitch and a speed each, drawn at random (seed 0)
and listed in the file. Every clip is resampled from espeak-ng's 22,050 Hz
to 8,000 Hz (:func:`scipy.signal.resample_poly`), trimmed of the silence
around the word and stored as 8-bit mu-law (G.711, as telephones carry
speech), which keeps the file small. It is synthesized speech, not
recordings of people.
"""

import argparse
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

DATA = Path(__file__).resolve().parents[1] / "skcnn" / "data"

WORD_LISTS = {
    "english": "/usr/share/dict/american-english",
    "german": "/usr/share/dict/ngerman",
    "french": "/usr/share/dict/french",
    "spanish": "/usr/share/dict/spanish",
    "italian": "/usr/share/dict/italian",
}
WORDS_PER_LANGUAGE = 2000

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-gb-x-gbclan")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4", "klatt", "klatt2")
N_SPEAKERS = 14
RATE = 8000
MU = 255


def make_words(out):
    rng = np.random.default_rng(0)
    lists = {}
    for language, path in WORD_LISTS.items():
        text = Path(path).read_text(encoding="utf-8")
        words = {line.strip().lower() for line in text.splitlines()}
        lists[language] = {
            w for w in words if w and "'" not in w and not any(c.isdigit() for c in w)
        }
    seen = {}
    for words in lists.values():
        for word in words:
            seen[word] = seen.get(word, 0) + 1
    lines = []
    for language, words in lists.items():
        own = sorted(w for w in words if seen[w] == 1)
        chosen = rng.choice(len(own), WORDS_PER_LANGUAGE, replace=False)
        lines += [f"{language}\t{own[i]}" for i in chosen]
    data = ("\n".join(sorted(lines)) + "\n").encode("utf-8")
    out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{out}: {len(lines)} words, {out.stat().st_size / 1024:.0f} kB")


def mu_law_encode(x):
    """Floats in [-1, 1] to 8-bit mu-law codes (0-255)."""
    y = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    return np.round((y + 1) / 2 * 255).astype(np.uint8)


def speak(word, voice, pitch, speed, folder):
    path = Path(folder) / "clip.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(path), word],
        check=True,
    )
    rate, clip = wavfile.read(path)
    clip = clip.astype(np.float64) / 2**15
    clip = resample_poly(clip, RATE, rate)  # 22050 -> 8000 Hz: up 160, down 441
    loud = np.flatnonzero(np.abs(clip) > 0.02 * np.abs(clip).max())
    margin = RATE // 50  # 20 ms of the silence around the word
    clip = clip[max(0, loud[0] - margin) : loud[-1] + margin]
    return clip / max(1.0, np.abs(clip).max())


def make_spoken_digits(out):
    rng = np.random.default_rng(0)
    speakers = []
    for _ in range(N_SPEAKERS):
        voice = f"{rng.choice(ACCENTS)}+{rng.choice(VARIANTS)}"
        speakers.append((voice, int(rng.integers(25, 80)), int(rng.integers(120, 200))))
    codes, offsets, digit, speaker = [], [0], [], []
    with tempfile.TemporaryDirectory() as folder:
        for s, (voice, pitch, speed) in enumerate(speakers):
            for d, word in enumerate(DIGITS):
                clip = mu_law_encode(speak(word, voice, pitch, speed, folder))
                codes.append(clip)
                offsets.append(offsets[-1] + len(clip))
                digit.append(d)
                speaker.append(s)
    np.savez_compressed(
        out,
        mu_law=np.concatenate(codes),
        offsets=np.array(offsets, dtype=np.int32),
        digit=np.array(digit, dtype=np.int8),
        speaker=np.array(speaker, dtype=np.int8),
        speakers=np.array([f"{v}, pitch {p}, {s} words/min" for v, p, s in speakers]),
        sampling_rate=np.array(RATE),
    )
    seconds = offsets[-1] / RATE
    size = out.stat().st_size / 1024
    print(f"{out}: {len(digit)} clips, {seconds:.0f} s of sound, {size:.0f} kB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["words", "spoken-digits"])
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    if args.what == "words":
        make_words(DATA / "words.tsv.gz")
    else:
        make_spoken_digits(DATA / "spoken_digits.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
