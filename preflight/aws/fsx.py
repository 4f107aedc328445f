"""FSx: the file system a Slurm lifecycle mounts (``fsx_dns_name`` in provisioning_parameters.json)."""

from __future__ import annotations

from preflight.account import FileSystem
from preflight.aws.calls import Calls, listed, text


class Fsx:
    def __init__(self, calls: Calls):
        self._calls = calls

    def file_system(self, file_system_id: str) -> FileSystem | None:
        def build(answer):
            found = listed(answer, "FileSystems", needed=True)
            if not found:
                return None
            record = found[0]
            lustre = record.get("LustreConfiguration") or {}
            return FileSystem(text(record["FileSystemId"]), text(record["FileSystemType"]), text(record["Lifecycle"]),
                              text(record["VpcId"]), tuple(text(s) for s in listed(record, "SubnetIds")),
                              text(record["DNSName"]), lustre.get("MountName"),
                              tuple(text(i) for i in listed(record, "NetworkInterfaceIds")))
        return self._calls.once(("file-system", file_system_id), lambda: self._calls.call(
            "fsx", "describe_file_systems", build, FileSystemIds=[file_system_id]))
