import { describe, expect, it } from 'vitest';
import { hclModuleSources, isLocalSource, jsonModuleSources, moduleSourcesOf, scanModuleSources } from '../../server/projects/module-sources.js';

// Each file is read by the scanner and by hcl2-parser; they must agree on the local module sources.
const FILES: [string, string, string[]][] = [
  ['one-line block', 'module "a" { source = "./a" }\n', ['./a']],
  [
    'realistic root module',
    `terraform {
  required_version = ">= 1.5"
  backend "local" { path = "state.tfstate" }
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

module "network" {
  source = "../modules/network"
  cidr   = var.cidr
  tags   = { source = "./inside-an-object", team = "platform" }
}

module "dns" {
  source  = "./dns"
  zone    = "example.com"
  records = [for r in ["a", "b"] : "\${r}.example.com"]
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

output "id" { value = module.network.id }
`,
    ['../modules/network', './dns'],
  ],
  [
    'comments of every kind',
    `# module "hash" { source = "./hash" }
// module "slash" { source = "./slash" }
/* module "block" {
  source = "./block"
} */
module "real" {
  source = "./real" # the one that counts
}
`,
    ['./real'],
  ],
  [
    'heredocs and templates that look like code',
    `resource "terraform_data" "x" {
  input = <<-EOT
    module "fake" {
      source = "./fake"
    }
  EOT
  other = "\${jsonencode({ source = "./also-fake" })} } {"
  esc   = "$\${not_a_template}"
}
module "after" {
  source = "../after"
}
`,
    ['../after'],
  ],
  ['bare identifier label', 'module net {\n  source = "./net"\n}\n', ['./net']],
  ['source built from an expression is not a literal', 'module "m" {\n  source = "${path.module}/m"\n}\n', []],
  ['module as an attribute name, not a block', 'locals {\n  module = "./x"\n}\nmodule_thing = "./y"\n', []],
  ['git and registry sources', 'module "g" { source = "git::https://example.com/g.git//sub" }\nmodule "r" { source = "hashicorp/consul/aws" }\n', []],
  ['a reference to module outputs', 'output "id" {\n  value = module.net.id\n}\nmodule "net" {\n  source = "./net" # module "x" { source = "./no" }\n}\n', ['./net']],
  ['source compared, not assigned, in a nested block', 'module "m" {\n  source = "./m"\n  check {\n    ok = source == "./nope"\n  }\n}\n', ['./m']],
  ['nested blocks inside the module', 'module "n" {\n  source = "./n"\n  providers = {\n    aws = aws.east\n  }\n  dynamic_thing {\n    source = "./nested-attr"\n  }\n}\n', ['./n']],
];

function local(sources: string[]): string[] {
  return sources.filter(isLocalSource);
}

describe('module source scanner', () => {
  it.each(FILES)('%s: finds the local sources', (_, text, expected) => {
    const scanned = scanModuleSources(text);
    expect(scanned).toEqual({ ok: true, sources: expect.any(Array) });
    expect(scanned.ok && local(scanned.sources)).toEqual(expected);
  });

  it.each(FILES)('%s: agrees with hcl2-parser', (_, text) => {
    const scanned = scanModuleSources(text);
    const parsed = hclModuleSources(text);
    expect(parsed.ok).toBe(true);
    expect(scanned.ok && local(scanned.sources).sort()).toEqual(parsed.ok && local(parsed.sources).sort());
  });

  it.each([
    ['unclosed brace', 'module "a" {\n  source = "./a"\n', 'is never closed'],
    ['unclosed string', 'module "a" {\n  source = "./a\n}\n', 'string is never closed'],
    ['unclosed comment', '/* module "a" { source = "./a" }', 'comment is never closed'],
    ['stray closing brace', 'module "a" { source = "./a" }\n}\n', 'closes nothing'],
  ])('reports %s instead of guessing', (_, text, reason) => {
    const scanned = scanModuleSources(text);
    expect(scanned.ok).toBe(false);
    expect(!scanned.ok && scanned.reason).toContain(reason);
  });

  it.each([
    ['a comment inside the block header', 'module "a" /* why */ {\n  source = "./a"\n}\n', ['./a']],
    ['a comment between source and its value', 'module "a" {\n  source = /* pinned */ "./a"\n}\n', ['./a']],
  ])('leaves %s to hcl2-parser', (_, text, expected) => {
    expect(scanModuleSources(text).ok).toBe(false);
    expect(moduleSourcesOf('main.tf', text)).toEqual({ ok: true, sources: expected });
  });

  it('falls back to hcl2-parser for a file it cannot read, which reports the syntax error', () => {
    const result = moduleSourcesOf('main.tf', 'module "a" {\n  source = "./a"\n');
    expect(result.ok).toBe(false);
  });

  it('skips files that never mention a module without scanning them', () => {
    expect(scanModuleSources('resource "x" "y" { a = "{" ')).toEqual({ ok: true, sources: [] });
  });
});

describe('Terraform JSON syntax', () => {
  it.each([
    ['object of blocks', '{"module": {"net": {"source": "../net"}, "dns": {"source": "./dns"}}}', ['../net', './dns']],
    ['blocks as arrays', '{"module": {"net": [{"source": "../net"}]}}', ['../net']],
    ['module as a list of objects', '{"module": [{"net": {"source": "./a"}}, {"dns": {"source": "./b"}}]}', ['./a', './b']],
    ['no modules', '{"resource": {}}', []],
  ])('%s', (_, text, expected) => {
    expect(jsonModuleSources(text)).toEqual({ ok: true, sources: expected });
    expect(moduleSourcesOf('main.tf.json', text)).toEqual({ ok: true, sources: expected });
  });

  it('reports malformed JSON', () => {
    expect(jsonModuleSources('{"module": ').ok).toBe(false);
  });
});
