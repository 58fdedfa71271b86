#!/usr/bin/env bash
# Proves the package can be depended on by version: a fixture package depends on a tagged clone of this one through
# a file:// URL with a version requirement (which SwiftPM treats like a remote dependency, refusing unsafe flags),
# on MLCore, and builds. CI's clone may carry no tags, so the temporary clone is tagged here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone -q "$root" "$work/modelvault"
git -C "$work/modelvault" -c user.name=ci -c user.email=ci@localhost tag -a 99.0.0 -m fixture

mkdir -p "$work/fixture/Sources/Fixture"
cat >"$work/fixture/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Fixture",
    dependencies: [.package(url: "file://$work/modelvault", from: "99.0.0")],
    targets: [
        .executableTarget(name: "Fixture", dependencies: [.product(name: "MLCore", package: "modelvault")])
    ]
)
SWIFT
cat >"$work/fixture/Sources/Fixture/main.swift" <<'SWIFT'
import MLCore

let tensor = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
print("MLCore as a versioned dependency: tensor of shape \(tensor.shape)")
SWIFT
cd "$work/fixture"
swift package resolve >"$work/resolve.log" 2>&1 || { cat "$work/resolve.log"; exit 1; }
swift build -q
swift run -q Fixture
