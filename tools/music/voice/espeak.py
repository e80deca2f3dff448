"""A small ctypes binding to libespeak-ng: phonemize words and speak phoneme strings.

espeakng-loader ships the library and its data but no synthesis API, so we bind the few C calls
we need. Speech is produced synchronously into a Python buffer together with the phoneme events
(their sample positions tell the singer where each syllable's vowel starts and ends). The library
keeps global state, so every call holds one lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tools.music.errors import TunesmithError
from tools.music.resources import espeak_library

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
ESPEAK_PHONEMES = 0x100  # accept [[...]] phoneme input
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
EVENT_END = 5
EVENT_MSG_TERMINATED = 6


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class PhonemeEvent:
    """One phoneme as spoken: its espeak mnemonic and the sample where it starts."""

    phoneme: str
    sample: int


@dataclass(frozen=True)
class Speech:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    events: tuple[PhonemeEvent, ...]


class Espeak:
    """The loaded library with one voice selected; use `engine()` to share one instance."""

    def __init__(self) -> None:
        found = espeak_library()
        if found is None:
            raise TunesmithError("espeak-ng is not available, so vocals cannot be sung",
                                 hint="pip install espeakng-loader (or apt-get install espeak-ng), or use vocals='none'")
        library, data = found
        self._lib = ctypes.CDLL(str(library))
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self._lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                           ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lock = threading.Lock()
        self.sample_rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data.parent).encode(),
                                                      INITIALIZE_PHONEME_EVENTS)
        if self.sample_rate <= 0:
            # some builds want the data dir itself rather than its parent
            self.sample_rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data).encode(),
                                                          INITIALIZE_PHONEME_EVENTS)
        if self.sample_rate <= 0:
            raise TunesmithError(f"espeak-ng could not start with its data at {data}")
        if self._lib.espeak_SetVoiceByName(b"en-us") != 0:
            raise TunesmithError("espeak-ng has no en-us voice")
        self._chunks: list[np.ndarray] = []
        self._events: list[PhonemeEvent] = []
        self._samples_seen = 0
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, count, events) -> int:
        index = 0
        while True:
            event = events[index]
            if event.type == EVENT_LIST_TERMINATED:
                break
            if event.type == EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0", 1)[0].decode("ascii", "replace")
                sample = int(round(event.audio_position * self.sample_rate / 1000.0))
                self._events.append(PhonemeEvent(name, sample))
            index += 1
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768.0)
            self._samples_seen += count
        return 0

    def phonemize(self, word: str) -> str:
        """espeak's phoneme mnemonics for a word or phrase, with stress marks (' and ,)."""
        text = ctypes.c_char_p(word.encode("utf-8"))
        pointer = ctypes.cast(text, ctypes.c_void_p)
        parts: list[str] = []
        with self._lock:
            holder = ctypes.c_void_p(pointer.value)
            while holder.value:
                result = self._lib.espeak_TextToPhonemes(ctypes.byref(holder), 0, 0)
                if result:
                    parts.append(result.decode("utf-8", "replace").strip())
        return " ".join(p for p in parts if p)

    def speak(self, text: str, *, phonemes: bool = False) -> Speech:
        """Speak text (or a phoneme string, wrapped in [[ ]]) and return audio plus phoneme events."""
        payload = (f"[[{text}]]" if phonemes else text).encode("utf-8") + b"\0"
        with self._lock:
            self._chunks, self._events, self._samples_seen = [], [], 0
            buffer = ctypes.create_string_buffer(payload)
            flags = ESPEAK_PHONEMES if phonemes else 0
            status = self._lib.espeak_Synth(buffer, len(payload), 0, 0, 0, flags, None, None)
            if status != 0:
                raise TunesmithError(f"espeak-ng failed to speak {text!r} (status {status})")
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            events = tuple(self._events)
        return Speech(audio, self.sample_rate, events)


@lru_cache(maxsize=1)
def engine() -> Espeak:
    """The process-wide espeak-ng instance (the C library is a singleton anyway)."""
    return Espeak()
