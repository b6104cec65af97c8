class Counter:
    def __init__(self, start=0):
        self.total = start

    def increment(self, n=1):
        # Python has the GIL, so this is atomic... right?
        self.total += n

    def value(self):
        return self.total
