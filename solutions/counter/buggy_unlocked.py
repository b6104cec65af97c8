# expect: fail no-lost-updates
# why: no lock at all: `self.value += n` is a read and a write, and a switch between them loses an update.
class Counter:
    def __init__(self, start=0):
        self.count = start

    def increment(self, n=1):
        self.count += n

    def value(self):
        return self.count
