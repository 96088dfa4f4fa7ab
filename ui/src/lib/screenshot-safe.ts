// Screenshot-safe mode over the whole window. Masking each panel's values one by one would
// miss the next panel written; instead the mode rewrites the document's text nodes (and the
// `title`s that show as tooltips) through `maskText`, and a MutationObserver masks whatever
// the components write later, before it is painted. Svelte compares a text node against the
// value it last set, not the node's text, so a masked node is updated normally and masked
// again. Switching the mode off puts back each original that is still the one shown.

import { maskText } from "./mask";

const TITLE = "title";

export function maskWindow(root: HTMLElement): () => void {
  /** The text a node had before it was masked, and the masked text written. */
  const texts = new Map<Text, { original: string; masked: string }>();
  const titles = new Map<Element, { original: string; masked: string }>();

  const maskNode = (node: Text) => {
    const value = node.nodeValue ?? "";
    if (texts.get(node)?.masked === value) return;
    const masked = maskText(value);
    if (masked === value) return;
    texts.set(node, { original: value, masked });
    node.nodeValue = masked;
  };
  const maskTitle = (element: Element) => {
    const value = element.getAttribute(TITLE);
    if (value === null || titles.get(element)?.masked === value) return;
    const masked = maskText(value);
    if (masked === value) return;
    titles.set(element, { original: value, masked });
    element.setAttribute(TITLE, masked);
  };
  const maskTree = (node: Node) => {
    if (node instanceof Text) return maskNode(node);
    if (!(node instanceof Element)) return;
    maskTitle(node);
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let next = walker.nextNode(); next; next = walker.nextNode()) {
      if (next instanceof Text) maskNode(next);
      else if (next instanceof Element) maskTitle(next);
    }
  };

  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "characterData" && record.target instanceof Text) maskNode(record.target);
      else if (record.type === "attributes" && record.target instanceof Element) maskTitle(record.target);
      else record.addedNodes.forEach(maskTree);
    }
  });
  maskTree(root);
  observer.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: [TITLE],
  });

  return () => {
    observer.disconnect();
    for (const [node, { original, masked }] of texts) if (node.nodeValue === masked) node.nodeValue = original;
    for (const [element, { original, masked }] of titles) {
      if (element.getAttribute(TITLE) === masked) element.setAttribute(TITLE, original);
    }
  };
}
