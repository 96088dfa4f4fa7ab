// Screenshot-safe mode over the whole window. Masking each panel's values one by one would
// miss the next panel written; instead the mode rewrites the document's text nodes (and the
// `title`s and `placeholder`s that show too) through `maskText`, and a MutationObserver masks whatever
// the components write later, before it is painted. Svelte compares a text node against the
// value it last set, not the node's text, so a masked node is updated normally and masked
// again. Switching the mode off puts back each original that is still the one shown. Text
// inside an element marked `data-private` (a revealed token, a TOTP secret) is masked whole.
// What is typed into a field is not text in the document: the `screenshot-safe` class on the
// root element has app.css draw email, phone and pasted text as discs and blur the QR code.

import { maskAll, maskText } from "./mask";

/** Marks an element whose whole text is masked in screenshot-safe mode. */
export const PRIVATE_ATTRIBUTE = "data-private";

const SHOWN_ATTRIBUTES = ["title", "placeholder"];
export const SAFE_CLASS = "screenshot-safe";

export function maskWindow(root: HTMLElement): () => void {
  /** The text a node had before it was masked, and the masked text written. */
  const texts = new Map<Text, { original: string; masked: string }>();
  const attributes = new Map<Attr, { original: string; masked: string }>();

  const maskNode = (node: Text) => {
    const value = node.nodeValue ?? "";
    if (texts.get(node)?.masked === value) return;
    const masked = node.parentElement?.closest(`[${PRIVATE_ATTRIBUTE}]`) ? maskAll(value) : maskText(value);
    if (masked === value) return;
    texts.set(node, { original: value, masked });
    node.nodeValue = masked;
  };
  const maskAttribute = (attribute: Attr) => {
    const value = attribute.value;
    if (attributes.get(attribute)?.masked === value) return;
    const masked = maskText(value);
    if (masked === value) return;
    attributes.set(attribute, { original: value, masked });
    attribute.value = masked;
  };
  const maskAttributes = (element: Element) => {
    for (const name of SHOWN_ATTRIBUTES) {
      const attribute = element.getAttributeNode(name);
      if (attribute) maskAttribute(attribute);
    }
  };
  const maskTree = (node: Node) => {
    if (node instanceof Text) return maskNode(node);
    if (!(node instanceof Element)) return;
    maskAttributes(node);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let next = walker.nextNode(); next; next = walker.nextNode()) {
      if (next instanceof Text) maskNode(next);
      else if (next instanceof Element) maskAttributes(next);
    }
  };

  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "characterData" && record.target instanceof Text) maskNode(record.target);
      else if (record.type === "attributes" && record.target instanceof Element) maskAttributes(record.target);
      else record.addedNodes.forEach(maskTree);
    }
  });
  maskTree(root);
  observer.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: SHOWN_ATTRIBUTES,
  });
  document.documentElement.classList.add(SAFE_CLASS);

  return () => {
    observer.disconnect();
    for (const [node, { original, masked }] of texts) if (node.nodeValue === masked) node.nodeValue = original;
    for (const [attribute, { original, masked }] of attributes) if (attribute.value === masked) attribute.value = original;
    document.documentElement.classList.remove(SAFE_CLASS);
  };
}
