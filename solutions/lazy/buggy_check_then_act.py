# expect: fail factory-once-under-threads
# why: no lock at all: two threads both see "not computed" and both call the factory.
_MISSING = object()


class Lazy:
    def __init__(self, factory):
        self.factory = factory
        self.value = _MISSING

    def get(self):
        if self.value is _MISSING:
            self.value = self.factory()
        return self.value
