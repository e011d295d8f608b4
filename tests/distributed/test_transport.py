"""ZeroMQ transport on loopback: signed messages both ways; a wrong secret is told so."""

import asyncio

import pytest
import uvloop

from horde.distributed.protocol import Heartbeat, Hello, Report
from horde.distributed.security import Signer
from horde.distributed.transport import AuthRefused, MasterTransport, WorkerTransport, zmq_address

pytestmark = pytest.mark.timeout(180)


def hello(worker_id: str) -> Hello:
    return Hello(worker_id, "host", 1, "0.1.0", "d" * 64, ["A"])


def test_round_trip_between_master_and_worker():
    async def scenario():
        master = MasterTransport(Signer("k"), "127.0.0.1", 0)
        worker = WorkerTransport(Signer("k"), "127.0.0.1", master.port, "w-1")
        try:
            await worker.send(hello("w-1"))
            peer, message = await asyncio.wait_for(master.recv(), 5)
            assert (peer, message) == ("w-1", hello("w-1"))
            await master.send("w-1", Heartbeat("running"))
            assert await asyncio.wait_for(worker.recv(), 5) == Heartbeat("running")
            # Messages to a worker that does not exist are dropped, never block.
            await master.send("nobody", Heartbeat("running"))
            report = Report("running", 1, {"A": 1}, 3.0, {"x": 1})
            await worker.send(report)
            assert await asyncio.wait_for(master.recv(), 5) == ("w-1", report)
        finally:
            worker.close()
            master.close()

    uvloop.run(scenario())


def test_wrong_secret_is_refused_with_a_notice_and_never_reaches_the_master():
    async def scenario():
        master = MasterTransport(Signer("right"), "127.0.0.1", 0)
        intruder = WorkerTransport(Signer("wrong"), "127.0.0.1", master.port, "w-bad")
        friend = WorkerTransport(Signer("right"), "127.0.0.1", master.port, "w-good")
        try:
            receiving = asyncio.ensure_future(master.recv())
            await intruder.send(hello("w-bad"))
            with pytest.raises(AuthRefused, match="secret"):
                await asyncio.wait_for(intruder.recv(), 5)
            await friend.send(hello("w-good"))
            peer, _ = await asyncio.wait_for(receiving, 5)
            assert peer == "w-good"
        finally:
            intruder.close()
            friend.close()
            master.close()

    uvloop.run(scenario())


def test_port_in_use_is_a_clear_error():
    async def scenario():
        first = MasterTransport(Signer(""), "127.0.0.1", 0)
        try:
            with pytest.raises(OSError, match="cannot listen for workers"):
                MasterTransport(Signer(""), "127.0.0.1", first.port)
        finally:
            first.close()

    uvloop.run(scenario())


def test_ipv6_addresses_get_brackets():
    assert zmq_address("::1", 5557) == "tcp://[::1]:5557"
    assert zmq_address("10.0.0.1", 5557) == "tcp://10.0.0.1:5557"
    assert zmq_address("*") == "tcp://*"
