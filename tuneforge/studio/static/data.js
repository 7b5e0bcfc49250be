// The Data screen: a chooser change reloads the page with it; the histogram's series chooser shows one chart.
document.addEventListener("DOMContentLoaded", () => {
  const choosers = document.getElementById("data-choosers");
  if (choosers) {
    choosers.querySelectorAll("select").forEach((select) => select.addEventListener("change", () => choosers.submit()));
  }
  const series = document.getElementById("histogram-series");
  if (series) {
    series.addEventListener("change", () => {
      document.querySelectorAll("figure.histogram").forEach((figure) => {
        figure.hidden = figure.dataset.series !== series.value;
      });
    });
  }
});
