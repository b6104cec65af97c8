import threading

class Counter:
    def __init__(self, start=0)
        self.value = start
