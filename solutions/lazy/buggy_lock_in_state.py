# expect: fail no-lock-after-set
# why: the lock lives in a small state object and get() takes it every time, also once the value is there.
import threading
from types import SimpleNamespace


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.state = {"slot": SimpleNamespace(guard=threading.RLock(), done=False, value=None)}

    def get(self):
        slot = self.state["slot"]
        with slot.guard:
            if not slot.done:
                slot.value = self.factory()
                slot.done = True
            return slot.value
