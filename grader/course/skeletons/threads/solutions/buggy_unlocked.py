# expect: fail no-lost-updates
# why: no lock: a switch between the read and the write of the total loses an addition.
class Tally:
    def __init__(self) -> None:
        self._total = 0

    def add(self, n: int) -> None:
        self._total += n

    def total(self) -> int:
        return self._total
