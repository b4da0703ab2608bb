from __future__ import annotations

import threading

from raasel.lib.ids import SnowflakeGenerator, id_to_ms, lowest_id_at_ms


def test_ids_increase_and_never_repeat_across_threads() -> None:
    generator = SnowflakeGenerator(5)
    out: list[list[int]] = [[] for _ in range(4)]

    def make(bucket: list[int]) -> None:
        bucket.extend(generator.next_id() for _ in range(20_000))

    threads = [threading.Thread(target=make, args=(b,)) for b in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for b in out for i in b]
    assert len(set(everything)) == 80_000
    assert all(b == sorted(b) for b in out)


def test_ids_carry_their_time() -> None:
    at = 1_800_000_000_123
    assert id_to_ms(lowest_id_at_ms(at)) == at
    assert lowest_id_at_ms(at + 1) > lowest_id_at_ms(at)


def test_ids_fit_in_a_signed_64_bit_column() -> None:
    assert SnowflakeGenerator(1023).next_id() < 2**63
