"""FSx: the file system a Slurm lifecycle mounts (``fsx_dns_name`` in provisioning_parameters.json)."""

from __future__ import annotations

from preflight.account import FileSystem
from preflight.aws.calls import Calls, listed, text


class Fsx:
    def __init__(self, calls: Calls):
        self._calls = calls

    def file_system(self, file_system_id: str) -> FileSystem | None:
        def page(answer):
            return [(text(record["FileSystemId"]), _file_system(record))
                    for record in listed(answer, "FileSystems", needed=True)]

        def compute():
            found = self._calls.by_id("fsx", "describe_file_systems", page, FileSystemIds=[file_system_id])
            return None if found is None else found.get(file_system_id)
        return self._calls.once(("file-system", file_system_id), compute)


def _file_system(record: dict) -> FileSystem:
    lustre = record.get("LustreConfiguration") or {}
    return FileSystem(text(record["FileSystemId"]), text(record["FileSystemType"]), text(record["Lifecycle"]),
                      text(record["VpcId"]), tuple(text(s) for s in listed(record, "SubnetIds")),
                      text(record["DNSName"]), lustre.get("MountName"),
                      tuple(text(i) for i in listed(record, "NetworkInterfaceIds")))
