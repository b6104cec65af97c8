from grace_lock import guarded


class Counter:
    def __init__(self, start=0):
        self._value = start

    @guarded
    def increment(self, n=1):
        self._value += n

    @guarded
    def value(self):
        return self._value
