# expect: pass
# why: every round gets a fresh Event; the last arriver sets it and installs the next round's Event.
import threading


class Barrier:
    def __init__(self, parties):
        self._parties = parties
        self._lock = threading.Lock()
        self._arrived = 0
        self._round_over = threading.Event()

    def wait(self):
        with self._lock:
            my_index = self._arrived
            my_round = self._round_over
            self._arrived += 1
            if self._arrived == self._parties:
                self._arrived = 0
                self._round_over = threading.Event()
                my_round.set()
                return my_index
        my_round.wait()
        return my_index
