# expect: fail factory-once-under-threads
# why: get() is functools.lru_cache(factory)(): lru_cache holds no lock while it calls the factory, so two threads that both miss run it twice.
import functools


class Lazy:
    def __init__(self, factory) -> None:
        # maxsize=None: the one result is never evicted; an exception is not cached, so a
        # failed attempt is retried by the next get().
        self._cached = functools.lru_cache(maxsize=None)(factory)

    def get(self):
        return self._cached()
