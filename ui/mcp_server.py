"""`tunesmith mcp`: the same tools over the Model Context Protocol (stdio), for any MCP host.

The host runs on the same machine, so file arguments may be local paths: each one is checked
(kind, size, duration) and stored as an upload artifact first, and the tool sees its artifact id.
Results come back as text (summary and file paths) and as structured content (the artifact).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.runtime import PATH_FIELDS, Agent, artifact_json
from agent.session import Upload
from tools.music.errors import TunesmithError
from tools.registry import ARTIFACT_ID


def import_local_files(agent: Agent, args: dict[str, Any]) -> dict[str, Any]:
    """Replace local file paths in file arguments with ids of checked, stored uploads."""
    out = dict(args)
    for key, value in args.items():
        if key in PATH_FIELDS and isinstance(value, str) and value and not ARTIFACT_ID.match(value):
            path = Path(value).expanduser()
            if path.is_file():
                out[key] = agent.sessions.add_upload(None, Upload(name=path.name, path=path)).id
    return out


def describe(agent: Agent, record_id: str) -> tuple[str, dict[str, Any]]:
    record = agent.store.get_artifact(record_id)
    paths = {name: str(agent.store.file_of(record.id, name)) for name in record.files}
    lines = [record.summary, f"artifact: {record.id}"] + [f"{name}: {path}" for name, path in paths.items()]
    return "\n".join(lines), artifact_json(record) | {"paths": paths}


def build_mcp_server(agent: Agent):
    """A low-level MCP server whose tools are the registry's tools, schemas included."""
    import anyio
    import mcp_types as types
    from mcp.server.lowlevel.server import Server

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name=tool.name, description=tool.description,
                                                       input_schema=tool.json_schema()) for tool in agent.registry])

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        def run() -> tuple[str, dict[str, Any]]:
            args = import_local_files(agent, dict(params.arguments or {}))
            return describe(agent, agent.call_tool(params.name, args).id)

        try:
            text, structured = await anyio.to_thread.run_sync(run)
        except TunesmithError as error:
            return types.CallToolResult(content=[types.TextContent(type="text", text=str(error))], is_error=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=structured)

    from importlib.metadata import version

    return Server("tunesmith", version=version("tunesmith"),
                  instructions="Music tools: write and sing songs, lyrics, rhymes, captions, style transfer, search.",
                  on_list_tools=list_tools, on_call_tool=call_tool)


def run_stdio(agent: Agent) -> None:
    """Serve MCP on stdin/stdout until the host closes the pipe."""
    import anyio
    from mcp.server.stdio import stdio_server

    server = build_mcp_server(agent)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
