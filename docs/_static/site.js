// minde-companion site: the notebooks' figures.  Each output figure opens at full size when clicked; a very
// wide one (panels side by side) keeps a readable height and scrolls sideways instead of shrinking to a strip.
"use strict";

const WIDE = 4; // width / height above which a figure scrolls instead of fitting the column

function fitFigure(img) {
  if (img.naturalHeight > 0 && img.naturalWidth / img.naturalHeight > WIDE) {
    img.classList.add("wide-figure");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll(".cell_output img")) {
    const link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.className = "output-figure";
    link.title = "the figure at full size";
    img.replaceWith(link);
    link.appendChild(img);
    if (img.complete) fitFigure(img);
    else img.addEventListener("load", () => fitFigure(img));
  }
});
