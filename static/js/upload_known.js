/* "Already stored?" for the upload page (upload.js): which dropped files, or entries of a
 * ZIP, look stored already, before anything is sent. upload.js takes what it needs from
 * window.cutroomUploadKnown when it starts (its boot(), once the page's scripts have run, in
 * whatever order), and says so on the page if this script is missing.
 *
 * The server (data-known-url: views.upload_known) names the byte counts some live image
 * has; only the files of those sizes are read and hashed here (SubtleCrypto: https and
 * localhost only), and the server names the live images with those hashes. The page then
 * says, per file, whether the import would skip it as a duplicate (the same bytes on the
 * product it maps to) or store it again with a warning (another product's). The browser's
 * check is a convenience: the server's own duplicate test stays the authority.
 */
(function () {
  "use strict";

  // "Already stored?" (upload_known): sizes and hashes per request, as the server takes at
  // most (views.MAX_KNOWN_VALUES). Only a file of a size some stored image has is hashed,
  // whole and one at a time (SubtleCrypto has no incremental digest): at most HASH_MAX_BYTES
  // each, so a 12-50 MB photo is checked and memory holds one file; a larger one is not.
  const KNOWN_BATCH = 500;
  const HASH_MAX_BYTES = 64 * 1024 * 1024;
  const STORED_ASK_EVERY = 20; // hashes per question while hashing: marks come as it goes

  function formatBytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " kB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  /* The sha256 (hex) of a Blob's bytes, remembered per File (picked files do not change
   * under the page; a re-pick is a new File). Null without SubtleCrypto (https or localhost
   * only) or when the file cannot be read now. */
  const hashes = new WeakMap();
  async function sha256Of(blob) {
    const subtle = window.crypto && window.crypto.subtle;
    if (!subtle) return null;
    if (hashes.has(blob)) return hashes.get(blob);
    let hex = null;
    try {
      const digest = await subtle.digest("SHA-256", await blob.arrayBuffer());
      hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    } catch (e) {
      hex = null;  // moved or unreadable now: not checked
    }
    hashes.set(blob, hex);
    return hex;
  }

  /* Ask the server (upload_known) which of these sizes some stored image has ({sizes}) or
   * which of these hashes are stored ({known}: sha256 -> [{sku, position, asset}]), in
   * batches of KNOWN_BATCH. Null when it cannot say (no URL, an error): nothing is marked. */
  async function askKnown(url, token, kind, values) {
    if (!url) return null;
    const unique = Array.from(new Set(values));
    const answer = kind === "size" ? new Set() : {};
    for (let at = 0; at < unique.length; at += KNOWN_BATCH) {
      const body = new FormData();
      for (const value of unique.slice(at, at + KNOWN_BATCH)) body.append(kind, String(value));
      let data;
      try {
        const response = await fetch(url, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRFToken": token, "Accept": "application/json" },
        });
        if (!response.ok) return null;
        data = await response.json();
      } catch (e) {
        return null;
      }
      if (kind === "size") for (const size of data.sizes || []) answer.add(size);
      else Object.assign(answer, data.known || {});
    }
    return answer;
  }

  /* The one walk of Uploader.findStored and findStoredInZip. `candidates` are {bytes,
   * read} (read: the bytes as a Blob, or null). The server names the sizes some stored
   * image has; only candidates of those sizes are read and hashed, one at a time, up to
   * HASH_MAX_BYTES each (~190 MB/s in Chromium on the 2-core dev VM: a 40 MB photo in
   * ~0.2 s), and every STORED_ASK_EVERY hashes the server is asked which are stored, so
   * the marks come as the hashing goes: found(candidate, holders, sha256) for each stored
   * one, progress(files of a stored size still to check, files not checked) after each. Stops
   * when the server cannot say or current() turns false (a newer preview, the upload). */
  async function checkStored(url, token, candidates, current, found, progress) {
    if (!url || !candidates.length) return;
    const sizes = await askKnown(url, token, "size", candidates.map((c) => c.bytes));
    if (!sizes || !current()) return;
    const wanted = candidates.filter((c) => sizes.has(c.bytes));
    let batch = [];
    let unchecked = 0;
    const ask = async () => {
      const known = batch.length ?
        await askKnown(url, token, "sha256", batch.map(([, hex]) => hex)) : {};
      if (!known || !current()) return false;
      for (const [candidate, hex] of batch) if (known[hex]) found(candidate, known[hex], hex);
      batch = [];
      return true;
    };
    for (let i = 0; i < wanted.length; i++) {
      const candidate = wanted[i];
      let hex = null;
      if (candidate.bytes <= HASH_MAX_BYTES) {
        const blob = await candidate.read().catch(() => null);
        hex = blob && blob.size === candidate.bytes ? await sha256Of(blob) : null;
        if (!current()) return;
      }
      if (hex) batch.push([candidate, hex]); else unchecked += 1;
      if (batch.length >= STORED_ASK_EVERY && !(await ask())) return;
      progress(wanted.length - i - 1 + batch.length, unchecked);
    }
    if (await ask()) progress(0, unchecked);
  }

  /* The JSON list a preview carries in `selector` (a json_script), or []. */
  function previewList(container, selector) {
    const script = container && container.querySelector(selector);
    if (!script) return [];
    try { return JSON.parse(script.textContent); } catch (e) { return []; }
  }

  /* The preview's name -> SKU of each mapped file (its data-preview-targets). */
  function previewTargets(container) {
    const script = container && container.querySelector("[data-preview-targets] script");
    if (!script) return {};
    try { return JSON.parse(script.textContent); } catch (e) { return {}; }
  }

  /* What the preview says of a file whose bytes some stored images have: the import's rule
   * is these bytes on the product the file maps to (a duplicate, skipped); on another
   * product it is stored again, with a warning naming the first. */
  function storedNote(holders, sku) {
    const where = (h) => `${h.sku} ${h.position} (asset #${h.asset})`;
    if (!sku) {
      // no product from the preview (a manifest with errors, an unknown SKU): neither a
      // duplicate nor a copy for another product can be promised (QA 2026-12-05 L3: "the
      // import stores it too, with a warning" while Upload was disabled)
      return { duplicate: false, text: `Looks already stored: identical to ${where(holders[0])}` };
    }
    const own = holders.find((h) => h.sku === sku);
    if (own) {
      return { duplicate: true, holder: where(own),
        text: `Looks already stored: identical to ${where(own)}; ` +
          "the import will skip it as a duplicate" };
    }
    return { duplicate: false, text: `Looks already stored: identical to ${where(holders[0])}; ` +
      `the import stores it on ${sku} too, with a warning` };
  }

  /* "N files look already stored …" under a preview's counts, with how many files of a
   * stored image's size are still being checked (left) and could not be (unchecked);
   * removed when all are 0. `choice` says what happens to the duplicates (those on the
   * product they map to), as the page stands now: "import" (sent, or a ZIP's entries: the
   * import skips them), "skip" (not sent: the session's finish names them) or "again"
   * ("Upload again anyway": sent, and the import skips them). */
  function showStoredNote(container, found, duplicates, unchecked, left, choice = "import") {
    if (!container) return;
    let note = container.querySelector("[data-preview-stored-note]");
    if (!found && !unchecked && !left) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = el("p", "warn-text");
      note.dataset.previewStoredNote = "";
      // under the preview's counts, where "38 of 39 files → 37 products" is read
      const summary = container.querySelector("[data-import-preview-result] .preview-summary");
      if (summary) summary.after(note);
      else container.append(note);
    }
    const parts = [];
    if (found) {
      let text = `${plural(found, "file")} ${found === 1 ? "looks" : "look"} already stored ` +
        "(the same bytes as a stored image)";
      const one = duplicates === 1;
      const onProduct = `on the product ${one ? "it maps" : "they map"} to`;
      if (!duplicates) text += ".";
      else if (choice === "skip") {
        text += `: ${duplicates} ${onProduct} ${one ? "is" : "are"} skipped (not sent); ` +
          `the import's report names ${one ? "it" : "them"}.`;
      } else if (choice === "again") {
        text += `: ${duplicates} ${onProduct} ${one ? "is" : "are"} sent again (Upload ` +
          `again anyway); the import will skip ${one ? "it as a duplicate" :
          "them as duplicates"}.`;
      } else {
        text += `: the import will skip ${duplicates} as ` +
          `${one ? "a duplicate" : "duplicates"} (${onProduct}).`;
      }
      parts.push(text);
    }
    if (left) {
      parts.push(`Checking ${plural(left, "more file")} of a stored image's size…`);
    }
    if (unchecked && !(window.crypto && window.crypto.subtle)) {
      // plain http: no SubtleCrypto, so nothing is hashed, marked or skipped here
      parts.push(`${plural(unchecked, "file")} of a stored image's size not checked here: ` +
        "this browser hashes files only on https (or localhost), so none is skipped; all " +
        "are sent, and the import reports any duplicate.");
    } else if (unchecked) {
      parts.push(`${plural(unchecked, "file")} of a stored image's size not checked here ` +
        `(over ${formatBytes(HASH_MAX_BYTES)}, or not readable in the browser): the import ` +
        "reports any duplicate.");
    }
    note.dataset.checking = left ? "true" : "false";
    note.textContent = parts.join(" ");
  }

  /* A settled line's mark: the import skips the file as a duplicate. */
  const STORED_MARK = "· already stored: skipped as a duplicate";

  /* A file the preview listed for a taken position whose bytes are on the product it maps
   * to: the import finds the duplicate before it looks at the position, so the file is
   * already stored (skipped), not a clash. It leaves the "position taken" list and count
   * (gone with its last file), and its line in the product's table says so. */
  function settleTaken(container, name, text = STORED_MARK) {
    const box = container && container.querySelector("[data-preview-refused]");
    if (!box) return;
    const named = (node) => (node.querySelector(".name") || {}).textContent === name;
    const listed = Array.from(box.querySelectorAll("[data-preview-unmapped]")).filter(named);
    if (!listed.length) return;
    for (const li of listed) li.remove();
    for (const li of container.querySelectorAll(".preview-files li.refused")) {
      if (!named(li)) continue;
      li.classList.remove("refused");
      li.dataset.previewAlreadyStored = "";
      const mark = li.querySelector(".warn");
      if (mark) mark.textContent = text;
    }
    const left = box.querySelectorAll("[data-preview-unmapped]").length;
    // the count's own elements (data-count), in the summary line and the list's heading
    const counts = [container.querySelector("[data-preview-refused-count] [data-count]"),
      box.querySelector(":scope > summary [data-count]")];
    if (left) {
      for (const count of counts) if (count) count.textContent = String(left);
      return;
    }
    box.remove();
    // the count goes with its " · " ("(2 new) · 2 position taken")
    const part = container.querySelector("[data-preview-refused-part]");
    if (part) part.remove();
  }

  /* The positions a file without one takes, in the order it takes them, as the server plans
   * them (models.NEXT_FREE_POSITIONS, sent on the preview's list; PT08 is shared past the
   * last free one). */
  function nextFreeOrder(list) {
    return (list.dataset.nextFreeOrder || "").split(" ").filter(Boolean);
  }

  /* The "→ PT01 (next free)" of a preview table line, with the position the server planned
   * (its data-preview-auto-position; the text is for people); null without. */
  function nextFreeOf(li) {
    const span = li.querySelector("[data-preview-auto-position]");
    const position = span && span.dataset.previewAutoPosition;
    return position ? { span: span, position: position } : null;
  }

  /* Plan a next-free file at another position: the data the page reads, and the words. */
  function planAt(span, position) {
    span.dataset.previewAutoPosition = position;
    span.textContent = `→ ${position} (next free)`;
  }

  /* A position the preview planned for a file the import will not store: the files of the
   * product that take the next free one after it move up by one (the first takes it), as
   * the server plans them without that file. Stable sort: files sharing PT08 keep their
   * order. */
  function releasePosition(list, position) {
    const order = nextFreeOrder(list);
    const rank = (p) => order.indexOf(p);
    const after = Array.from(list.children, (li) => nextFreeOf(li))
      .filter((auto) => auto && rank(auto.position) > rank(position))
      .sort((a, b) => rank(a.position) - rank(b.position));
    let free = position;
    for (const auto of after) {
      const was = auto.position;
      planAt(auto.span, free);
      free = was;
    }
  }

  /* A file found stored on the product it maps to: the import skips it as a duplicate
   * before it places it, so it takes no position (QA 2026-12-05: the preview planned it at
   * PT01 "next free" and the import stored the next file there). Out of "position taken"
   * (settleTaken); its table line says already stored, and the position it was planned at
   * (next free, or its own free one) goes to the product's next-free files. A named file
   * that replaces older images keeps the position held: skipped, it replaces nothing.
   * `text` is the line's mark (findCopies: a copy of another file of the upload). */
  function settleStored(container, name, text = STORED_MARK) {
    if (!container) return;
    settleTaken(container, name, text);
    for (const li of container.querySelectorAll(".preview-files li")) {
      if ((li.querySelector(".name") || {}).textContent !== name) continue;
      if ("previewAlreadyStored" in li.dataset) continue;  // settled already
      li.dataset.previewAlreadyStored = "";
      const auto = nextFreeOf(li);
      const own = li.querySelector("[data-preview-position]");
      let freed = null;
      if (auto) {
        auto.span.remove();
        freed = auto.position;
      } else if (own && !li.querySelector("[data-preview-replaces]")) {
        freed = own.dataset.previewPosition;
      }
      const mark = li.querySelector(".warn");
      if (mark) mark.textContent = text;
      else li.append(" ", el("span", "warn small", text));
      if (freed && nextFreeOrder(li.parentNode).includes(freed)) {
        releasePosition(li.parentNode, freed);
      }
    }
  }

  /* The server's order of names (archives.name_order_key): folder by folder, by code point. */
  function byName(a, b) {
    const x = a.split("/");
    const y = b.split("/");
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return x.length - y.length;
  }

  /* Copies within one upload (QA 2026-12-05 M2: GOOD-1.jpg and GOOD-1.png of the same bytes
   * were planned at PT04 and PT05, and GOOD-1.webp, planned at PT06, went to PT05). The
   * import keeps the first file of the same bytes on a product, in its order (a manifest
   * row's files first, then name order: a ZIP's order; a browser session settles its files
   * so, assets.asset_duplicate_first_by_name),
   * and skips each later one as a duplicate: the preview plans no position for it
   * (settleStored: its position goes to the product's next-free files, as a stored
   * duplicate's does). `candidates` are {name, bytes, read, crc} (crc: a ZIP entry's CRC-32
   * from its central directory). Only files sharing product, size (and CRC-32) with another
   * are read, and hashed as the stored check hashes (sha256Of, remembered per Blob); a
   * ZIP entry that cannot be hashed here (over HASH_MAX_BYTES, another compression) with
   * the size and CRC-32 of an earlier one is called a likely copy. Returns the copies'
   * names: a copy is skipped, so what the stored check said of it ("stored on … too")
   * gives way to this verdict (QA 2026-12-05 qa33b L2). */
  async function findCopies(container, candidates, current) {
    const targets = previewTargets(container);
    // the import's order (import_mapping.import_order_key): the files a manifest row places
    // first, then name order, so an unlisted identical copy is the duplicate, never the
    // row's file (QA 2026-12-06 F4: "a copy.jpg → PT01", "a.jpg PT03 … will be skipped")
    const placed = new Set(previewList(container, "[data-preview-manifest-placed] script"));
    const inOrder = (a, b) => (placed.has(b.name) - placed.has(a.name)) || byName(a.name, b.name);
    const groups = new Map();
    for (const c of candidates.slice().sort(inOrder)) {
      const sku = targets[c.name];
      if (!sku || !c.bytes) continue;
      const key = [sku, c.bytes, c.crc === undefined ? "" : c.crc].join("\u0000");
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(c);
    }
    const copies = new Set();
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const first = new Map();  // sha256 -> the first name with those bytes
      for (const c of group) {
        let hex = null;
        if (c.bytes <= HASH_MAX_BYTES) {
          const blob = await c.read().catch(() => null);
          hex = blob && blob.size === c.bytes ? await sha256Of(blob) : null;
          if (!current()) return copies;
        }
        let text;
        if (hex) {
          if (!first.has(hex)) {
            first.set(hex, c.name);
            continue;
          }
          text = `· duplicate of ${first.get(hex)} in this upload — will be skipped`;
        } else if (c.crc !== undefined && c !== group[0]) {
          text = `· likely duplicate of ${group[0].name} in this upload (same size and ` +
            "CRC-32) — will be skipped";
        } else {
          continue;
        }
        copies.add(c.name);
        settleStored(container, c.name, text);
        for (const li of container.querySelectorAll("[data-preview-already-stored]")) {
          if ((li.querySelector(".name") || {}).textContent === c.name) {
            li.dataset.previewCopy = hex ? "duplicate" : "likely";
          }
        }
      }
    }
    return copies;
  }

  /* "1 file", "2 files": a count with its noun, as the server's pages pluralize. */
  function plural(n, one) {
    return `${n} ${n === 1 ? one : one + "s"}`;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Which of a ZIP's entries look already stored, as for picked files (Uploader.findStored):
   * only the entries of a stored image's size are read (a stored entry is a slice of the
   * ZIP, a deflated one is inflated), hashed one at a time, then asked about. The preview
   * gets a line "N files look already stored" and their list; the ZIP is imported as it is
   * (the import skips the duplicates and reports them). Returns what drops findCopies'
   * copies from that list. */
  async function findStoredInZip(entries, readEntry, target, url, token, current) {
    const candidates = Array.from(entries).filter(([, entry]) => entry.bytes > 0)
      .map(([name, entry]) => ({ bytes: entry.bytes, name: name,
        read: () => readEntry(entry) }));
    const targets = previewTargets(target);
    const list = el("ul");
    const details = el("details", "preview-unmapped preview-stored");
    details.dataset.previewStored = "";
    details.open = true;
    const more = el("p", "muted");
    const summary = el("summary");
    details.append(summary, list, more);
    let found = 0;
    let duplicates = 0;
    let last = [0, 0];  // unchecked, left: the note's last progress
    const elsewhere = new Set();
    await checkStored(url, token, candidates, current, ({ name }, holders) => {
      const note = storedNote(holders, targets[name]);
      if (note.duplicate) settleStored(target, name);
      else elsewhere.add(name);
      found += 1;
      duplicates += note.duplicate ? 1 : 0;
      summary.textContent = `Already stored (${found})`;
      if (found > 50) {  // the count says how many; a list of more is not read
        more.textContent = `and ${found - 50} more.`;
        return;
      }
      const li = el("li");
      li.dataset.previewStoredFile = note.duplicate ? "duplicate" : "elsewhere";
      li.append(el("span", "name", name), document.createTextNode(`: ${note.text}`));
      list.append(li);
    }, (left, unchecked) => {
      last = [unchecked, left];
      showStoredNote(target, found, duplicates, unchecked, left);
      const note = target.querySelector("[data-preview-stored-note]");
      if (found && note && !details.isConnected) note.after(details);
    });
    /* The entries findCopies found to be copies within the ZIP: skipped, so not "stored on
     * … too" (QA 2026-12-05 qa33b L2); one on its own product stays a duplicate. */
    return (copies) => {
      for (const name of copies) {
        if (!elsewhere.delete(name)) continue;
        found -= 1;
        for (const li of list.querySelectorAll("[data-preview-stored-file=elsewhere]")) {
          if ((li.querySelector(".name") || {}).textContent === name) li.remove();
        }
      }
      summary.textContent = `Already stored (${found})`;
      if (!found) details.remove();
      showStoredNote(target, found, duplicates, last[0], last[1]);
    };
  }

  window.cutroomUploadKnown = {
    HASH_MAX_BYTES, sha256Of, checkStored, previewTargets, storedNote, showStoredNote,
    findStoredInZip, settleTaken, settleStored, findCopies, byName,
    // small helpers upload.js shares, so a count and a size read the same on the whole page
    plural, el, formatBytes,
  };
})();
