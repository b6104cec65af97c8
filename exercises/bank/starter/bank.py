"""A thread-safe bank: see the statement for the rules."""

import threading


class Bank:
    def __init__(self, balances: list[int]) -> None:
        raise NotImplementedError

    def transfer(self, src: int, dst: int, amount: int) -> bool:
        raise NotImplementedError

    def balance(self, account: int) -> int:
        raise NotImplementedError

    def total(self) -> int:
        raise NotImplementedError
