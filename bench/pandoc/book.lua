-- Asks pandoc for what samizdat does to the same text, so that both make the same book:
-- each chapter opens a page, and (in HTML for WeasyPrint) notes sit at the foot of the page.

-- With --file-scope a link to a whole chapter file becomes "#file.md", which names no anchor: keep its text.
function Link(link)
  if link.target:match("^#[^#]*%.md$") then return link.content end
end

-- styles/print.css floats a span.footnote to the page foot; pandoc's HTML would make endnotes.
-- (Typst puts footnotes at the page foot itself.)
function Note(note)
  if FORMAT:match("html") then
    return pandoc.Span(pandoc.utils.blocks_to_inlines(note.content), {class = "footnote"})
  end
end

-- styles/print.css breaks the page before a .chapter and takes the running head from its h1.
function Header(header)
  if header.level ~= 1 then return nil end
  if FORMAT:match("html") then
    header.classes:insert("chapter")
    return header
  end
  if FORMAT == "typst" then
    return {pandoc.RawBlock("typst", "#pagebreak(weak: true)"), header}
  end
end
