// The diagram command and the network hover in a real editor: headless Neovim
// with its built-in LSP client (vim.lsp.start, or start_client on Neovim 0.7)
// runs the server, the `:AlexnetDiagram` snippet exactly as
// editors/vscode/README.md prints it, `vim.lsp.buf.execute_command`, and a
// hover, then writes what it saw to a file. Bounded in time; skipped, saying
// so, where nvim is not installed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { at, ROOT } from './client.js';

const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const hasNvim = nvim.status === 0;
if (!hasNvim) console.warn('SKIPPED the Neovim test: nvim is not installed (apt-get install neovim)');

const SRC = `block cbr(c) {
  conv(c, 3, pad 1) | batchnorm | relu
}

block unused(c) {
  conv(c, 1)
}

network Big(classes = 100) {
  input [3, 32, 32]
  cbr(16) | maxpool(2) | cbr(32)
  flatten | dense(classes)
}

network Small(classes = 10) {
  input [1, 28, 28]
  cbr(8) | maxpool(2)
  flatten | dense(classes)
}
`;

/** the Lua block under "### The diagram in Neovim" in the extension's README */
function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'editors/vscode/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The diagram in Neovim'));
  const m = /```lua\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no ```lua block under "### The diagram in Neovim" in editors/vscode/README.md');
  return m[1]!;
}

const INIT = `
local dir = vim.env.T_DIR
local results = {}
local function row(needle) return tonumber(vim.env['T_ROW_' .. needle]) end
local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/nets.net'))
  local inited = false
  local config = {
    name = 'alexnetc',
    cmd = { vim.env.T_NODE, vim.env.T_BIN, 'lsp' },
    root_dir = dir,
    on_init = function() inited = true end,
    -- what vim.lsp.buf.execute_command's answer goes to
    handlers = {
      ['workspace/executeCommand'] = function(e, result)
        results.execute_command = { err = e and e.message or vim.NIL, network = result and result.network or vim.NIL, svg = result and result.svg or vim.NIL }
      end,
    },
  }
  if vim.lsp.start then
    results.started_with = 'vim.lsp.start'
    vim.lsp.start(config)
  else
    results.started_with = 'vim.lsp.start_client'
    vim.lsp.buf_attach_client(0, vim.lsp.start_client(config))
  end
  assert(vim.wait(20000, function() return inited end, 20), 'the server did not initialize')
  -- the unused block's warning: the server has the text
  assert(vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 20), 'no diagnostics arrived')
  results.diagnostics = vim.tbl_map(function(d) return d.message end, vim.diagnostic.get(0))

  -- K on the network line
  vim.api.nvim_win_set_cursor(0, { row('BIG'), 3 })
  local answers = vim.lsp.buf_request_sync(0, 'textDocument/hover', vim.lsp.util.make_position_params(0, 'utf-16'), 20000)
  for _, a in pairs(answers or {}) do results.hover = a.result and a.result.contents.value or vim.NIL end

  -- the README's :AlexnetDiagram, with the browser replaced by a record of what it was given
  local opened, notes = {}, {}
  vim.ui.open = function(p) table.insert(opened, { path = p, svg = table.concat(vim.fn.readfile(p), '\\n') }) end
  vim.notify = function(msg) table.insert(notes, msg) end
  dofile(dir .. '/snippet.lua')
  vim.api.nvim_win_set_cursor(0, { row('SMALL'), 2 })
  vim.cmd('AlexnetDiagram')
  assert(vim.wait(30000, function() return #opened == 1 end, 20), 'AlexnetDiagram opened nothing')
  vim.cmd('AlexnetDiagram expand')
  assert(vim.wait(30000, function() return #opened == 2 end, 20), 'AlexnetDiagram expand opened nothing')
  vim.api.nvim_win_set_cursor(0, { row('UNUSED'), 2 })
  vim.cmd('AlexnetDiagram')
  assert(vim.wait(30000, function() return #notes == 1 end, 20), 'no error notification for an unused block')
  results.opened, results.notes = opened, notes

  -- vim.lsp.buf.execute_command: the same request, the answer to the client's handler
  vim.lsp.buf.execute_command({ command = 'alexnetc.showDiagram', arguments = { { uri = vim.uri_from_bufnr(0), network = 'Big' } } })
  assert(vim.wait(30000, function() return results.execute_command ~= nil end, 20), 'execute_command got no answer')
end)
if not ok then results.error = tostring(err) end
local f = assert(io.open(dir .. '/results.json', 'w'))
f:write(vim.fn.json_encode(results))
f:close()
vim.cmd('qa!')
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alexnetc-nvim-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasNvim)(`Neovim (${nvim.stdout?.split('\n')[0] ?? 'missing'})`, () => {
  it('shows the diagram (the README snippet and vim.lsp.buf.execute_command) and the network totals on hover', () => {
    fs.writeFileSync(path.join(dir, 'nets.net'), SRC);
    fs.writeFileSync(path.join(dir, 'snippet.lua'), readmeSnippet());
    fs.writeFileSync(path.join(dir, 'init.lua'), INIT);
    const row = (needle: string) => String(at(SRC, needle).line + 1);
    const env = {
      ...process.env,
      T_DIR: dir,
      T_NODE: process.execPath,
      T_BIN: path.join(ROOT, 'bin/alexnetc.js'),
      T_ROW_BIG: row('network Big'),
      T_ROW_SMALL: row('input [1, 28, 28]'),
      T_ROW_UNUSED: row('conv(c, 1)'),
      // nothing of the user's Neovim: config, data, state, logs and temporaries stay in the scratch folder
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      XDG_DATA_HOME: path.join(dir, 'data'),
      XDG_STATE_HOME: path.join(dir, 'state'),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      TMPDIR: dir,
    };
    const r = spawnSync('nvim', ['--headless', '-n', '-i', 'NONE', '--noplugin', '-u', path.join(dir, 'init.lua')], { cwd: dir, env, encoding: 'utf8', timeout: 90_000 });
    expect(r.error, r.stderr).toBeUndefined();
    const resultsFile = path.join(dir, 'results.json');
    expect(fs.existsSync(resultsFile), `nvim wrote no results (exit ${r.status}): ${r.stderr}${r.stdout}`).toBe(true);
    const res = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    expect(res.error).toBeUndefined();
    expect(res.diagnostics.join('\n')).toContain('block `unused` is never used');

    // K on `network Big(classes = 100) {`
    expect(res.hover).toContain('network Big(classes = 100)');
    expect(res.hover).toContain('input `[3, 32, 32]` → output `[100]`');
    expect(res.hover).toMatch(/parameters [\d,]+ \(.*\): trainable [\d,]+, not trained 96/);
    expect(res.hover).toMatch(/MACs [\d,]+/);
    expect(res.hover).toMatch(/weights \d+\.\d\d MiB as float32/);

    // :AlexnetDiagram on Small, then expanded; an unused block is an error message
    const [plain, expanded] = res.opened as { path: string; svg: string }[];
    expect(plain!.path).toMatch(/-Small\.svg$/);
    expect(plain!.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const p of ['cbr1', 'maxpool1', 'flatten1', 'dense1']) expect(plain!.svg).toContain(`data-path="${p}"`);
    expect(plain!.svg).not.toContain('data-path="cbr1/conv1"');
    expect(expanded!.svg).toContain('data-path="cbr1/conv1"');
    expect(res.notes).toEqual([expect.stringContaining('alexnetc: block `unused` is not used by any network')]);

    // vim.lsp.buf.execute_command with a network by name
    expect(res.execute_command.err).toBeNull();
    expect(res.execute_command.network).toBe('Big');
    expect(res.execute_command.svg).toContain('data-path="cbr2"');
  }, 120_000);
});
