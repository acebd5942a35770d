"""The Flight gateway over sockets: plain pyarrow.flight, Flight SQL through ADBC, the Python
client, authentication and TLS; and every surface agreeing on the same query."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as dbapi
import adbc_driver_manager
import httpx
import pyarrow as pa
import pyarrow.flight as fl
import pytest
from httpx_sse import connect_sse

import fletch.client
from fletch.localstack import LocalStack
from query_api.auth import FlightAuth
from query_api.flightsql import field_bytes, pack_any
from tests.clients.conftest import ORG
from tests.reference.dataset import DataSet

HOUR = 3_600_000
ORG_HEADER = (b"x-scope-orgid", ORG.encode())


@pytest.fixture
def flight(stack: LocalStack) -> Iterator[fl.FlightClient]:
    with fl.FlightClient(stack.flight_url) as client:
        yield client


def options() -> fl.FlightCallOptions:
    return fl.FlightCallOptions(headers=[ORG_HEADER], timeout=60)


def adbc(stack: LocalStack, **db_kwargs: str) -> dbapi.Connection:
    kwargs = {"adbc.flight.sql.rpc.call_header.x-scope-orgid": ORG, **db_kwargs}
    return dbapi.connect(stack.flight_url, db_kwargs=kwargs, autocommit=True)


def test_json_command_as_ticket_and_as_descriptor(
    stack: LocalStack, flight: fl.FlightClient, reference_dataset: DataSet
) -> None:
    t0 = reference_dataset.start_ms // 1000
    command = {"query": 'queue_depth{queue="gappy"}', "start": t0 + 600, "end": t0 + 900, "step": "1m"}
    direct = flight.do_get(fl.Ticket(json.dumps(command).encode()), options()).read_all()
    assert direct.schema.names == ["timestamp", "value", "__name__", "job", "queue"]
    assert direct.schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert direct.schema.metadata[b"fletch.result_type"] == b"matrix"
    assert direct.column("timestamp").cast(pa.int64()).to_pylist() == [
        (t0 + 600 + 60 * i) * 1000 for i in range(6)
    ]
    info = flight.get_flight_info(fl.FlightDescriptor.for_command(json.dumps(command)), options())
    assert info.total_records == 6 and len(info.endpoints) == 1
    fetched = flight.do_get(info.endpoints[0].ticket, options()).read_all()
    assert fetched.equals(direct) and info.schema.equals(fetched.schema)
    with pytest.raises(fl.FlightServerError, match="unknown or expired"):  # tickets are one-use
        flight.do_get(info.endpoints[0].ticket, options()).read_all()


def test_instant_rfc3339_and_label_map(flight: fl.FlightClient) -> None:
    command = {
        "query": "count by (job) (node_temperature_celsius)",
        "time": "2024-01-01T01:00:00Z",
        "labels": "map",
    }
    table = flight.do_get(fl.Ticket(json.dumps(command).encode()), options()).read_all()
    assert table.schema.metadata[b"fletch.result_type"] == b"vector"
    assert [dict(row["labels"]) for row in table.to_pylist()] == [
        {"job": "api"},
        {"job": "db"},
        {"job": "web"},
    ]
    assert table.column("value").to_pylist() == [3.0, 3.0, 3.0]


def test_errors_carry_prometheus_error_types(flight: fl.FlightClient) -> None:
    with pytest.raises(fl.FlightServerError) as caught:
        flight.do_get(fl.Ticket(b'{"query": "up{", "time": 0}'), options()).read_all()
    assert json.loads(caught.value.extra_info)["errorType"] == "bad_data"
    assert "Traceback" not in str(caught.value)
    with pytest.raises(fl.FlightServerError, match="must be JSON"):
        flight.do_get(fl.Ticket(b"nonsense"), options()).read_all()
    with pytest.raises(fl.FlightServerError, match="needs start, end and step"):
        flight.do_get(fl.Ticket(b'{"query": "up", "start": 0}'), options()).read_all()


def test_unknown_flight_sql_commands_are_unimplemented(flight: fl.FlightClient) -> None:
    for name in ("CommandGetSqlInfo", "CommandGetTables", "CommandPreparedStatementQuery"):
        descriptor = fl.FlightDescriptor.for_command(pack_any(name, field_bytes(1, b"x")))
        with pytest.raises(NotImplementedError):
            flight.get_flight_info(descriptor, options())
    with pytest.raises(NotImplementedError):
        list(flight.do_action(fl.Action("CreatePreparedStatement", b""), options()))


def test_adbc_range_and_instant(stack: LocalStack, reference_dataset: DataSet) -> None:
    t0 = reference_dataset.start_ms // 1000
    with adbc(stack) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT * FROM promql_range('sum by (job) (rate(http_requests_total{{method=''GET''}}[5m]))', "
            f"'{t0 + 600}', '{t0 + 1800}', '5m')"
        )
        table = cur.fetch_arrow_table()
        assert table.schema.names == ["timestamp", "value", "job"]
        assert table.num_rows == 3 * 5
        cur.execute("select * from promql_instant('1 + 1', '2024-01-01T00:00:04Z');")
        assert cur.fetch_arrow_table().to_pylist()[0]["value"] == 2.0
        with pytest.raises(adbc_driver_manager.Error, match="promql_range"):
            cur.execute("SELECT 1")
        with pytest.raises(adbc_driver_manager.Error, match="parse error"):
            cur.execute("SELECT * FROM promql_instant('sum(')")
        info = conn.adbc_get_info()  # GetSqlInfo is UNIMPLEMENTED: the driver's defaults
        assert info["vendor_name"] == "Flight SQL"


def test_python_client(stack: LocalStack, reference_dataset: DataSet) -> None:
    t0 = reference_dataset.start_ms // 1000
    with fletch.client.connect(stack.flight_url, org=ORG) as db:
        table = db.query_range("node_temperature_celsius", t0 + 600, t0 + 1200, "1m")
        assert table.num_rows == 9 * 11
        assert db.query("vector(3)", t0).column("value").to_pylist() == [3.0]
        with pytest.raises(fletch.client.QueryFailed) as caught:
            db.query("rate(up)")
        assert caught.value.error_type == "bad_data"


def _long_rows(table: pa.Table) -> list[tuple[tuple[tuple[str, str], ...], int, float]]:
    names = [n for n in table.column_names if n not in ("timestamp", "value")]
    rows = []
    for row in table.to_pylist():
        labels = tuple(sorted((n, row[n]) for n in names if row[n] is not None))
        rows.append((labels, int(row["timestamp"].timestamp() * 1000), row["value"]))
    return sorted(rows)


def test_every_surface_gives_the_same_answer(stack: LocalStack, reference_dataset: DataSet) -> None:
    query = "histogram_quantile(0.9, sum by (le, job) (rate(request_duration_seconds_bucket[5m])))"
    start, end, step = reference_dataset.start_ms + HOUR, reference_dataset.start_ms + 2 * HOUR, 60_000
    with httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=60) as http:
        body = http.post(
            "/api/v1/query_range",
            data={"query": query, "start": start / 1000, "end": end / 1000, "step": step / 1000},
        ).json()
        with connect_sse(
            http, "POST", "/api/v1/metrics/query", json={"q": query, "s": start, "e": end, "step": "1m"}
        ) as source:
            events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    from_json = sorted(
        (tuple(sorted(s["metric"].items())), round(float(t) * 1000), float(v))
        for s in body["data"]["result"]
        for t, v in s["values"]
    )
    assert events[-1] == ("done", events[-1][1]) and events[-1][1]["status"] == "ok"
    from_sse = sorted(
        (tuple(sorted(p["labels"].items())), t, float(v))
        for kind, p in events
        if kind == "result"
        for t, v in zip(p["timestamps"], p["values"], strict=True)
    )
    with fletch.client.connect(stack.flight_url, org=ORG) as db:
        from_flight = _long_rows(db.query_range(query, start / 1000, end / 1000, "60"))
    with adbc(stack) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM promql_range('{query}', '{start / 1000}', '{end / 1000}', '1m')")
        from_adbc = _long_rows(cur.fetch_arrow_table())
    assert len(from_json) == 3 * 61
    assert from_json == from_sse == from_flight == from_adbc


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, bytes]]:
    root = tmp_path_factory.mktemp("secured")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    auth = FlightAuth(tokens=frozenset({"s3cr3t"}), users={"alice": "pw"})
    with LocalStack(
        root, workers=1, flight_auth=auth, flight_tls=[fl.CertKeyPair(cert.read_bytes(), key.read_bytes())]
    ) as local:
        yield local, cert.read_bytes()


def test_tls_and_auth_with_pyarrow(secured: tuple[LocalStack, bytes]) -> None:
    local, cert = secured
    assert local.flight_url.startswith("grpc+tls://")
    ticket = fl.Ticket(b'{"query": "1 + 1", "time": 4}')
    with fl.FlightClient(local.flight_url, tls_root_certs=cert) as client:
        with pytest.raises(fl.FlightUnauthenticatedError):
            client.do_get(ticket).read_all()
        bad = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer nope")])
        with pytest.raises(fl.FlightUnauthenticatedError):
            client.do_get(ticket, bad).read_all()
        good = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer s3cr3t")])
        assert client.do_get(ticket, good).read_all().column("value").to_pylist() == [2.0]
        pair = client.authenticate_basic_token("alice", "pw")
        assert client.do_get(ticket, fl.FlightCallOptions(headers=[pair])).read_all().num_rows == 1
        with pytest.raises(fl.FlightUnauthenticatedError):
            client.authenticate_basic_token("alice", "wrong")
    # No root certificate: the server is not trusted.
    with pytest.raises(fl.FlightUnavailableError), fl.FlightClient(local.flight_url) as client:
        client.do_get(ticket, good).read_all()
    with fletch.client.connect(local.flight_url, username="alice", password="pw", tls_root_certs=cert) as db:
        assert db.query("1 + 1", 4).num_rows == 1


def test_tls_and_auth_with_adbc(secured: tuple[LocalStack, bytes]) -> None:
    local, cert = secured
    tls = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: cert.decode()}
    statement = "SELECT * FROM promql_instant('1 + 1', '4')"
    with (
        dbapi.connect(
            local.flight_url, db_kwargs={**tls, "username": "alice", "password": "pw"}, autocommit=True
        ) as conn,
        conn.cursor() as cur,
    ):  # Basic login, unpadded base64
        cur.execute(statement)
        assert cur.fetch_arrow_table().column("value").to_pylist() == [2.0]
    token = {adbc_driver_flightsql.DatabaseOptions.AUTHORIZATION_HEADER.value: "Bearer s3cr3t"}
    with (
        dbapi.connect(local.flight_url, db_kwargs={**tls, **token}, autocommit=True) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(statement)
        assert cur.fetch_arrow_table().num_rows == 1
    with (dbapi.connect(local.flight_url, db_kwargs=tls, autocommit=True) as conn, conn.cursor() as cur,
          pytest.raises(adbc_driver_manager.Error, match=r"(?i)unauthenticated")):
        cur.execute(statement)
