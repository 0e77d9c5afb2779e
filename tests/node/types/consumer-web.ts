// A typed consumer as a browser or bundler sees the package: `init()` once, then the same API.
import init, { GroupsClient, initSync, previewGroups, type Preview } from "group-identity";

await init();
await init({ module_or_path: new URL("group-identity/group_identity_bg.wasm", import.meta.url) });
initSync({ module: new Uint8Array() });
const preview: Preview = previewGroups({ id: "household", source_user_attribute: "$address", attributes: [] }, "");
const client = new GroupsClient({ workspaceId: 1, accessToken: "token" });
void [preview, client];
