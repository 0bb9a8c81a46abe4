//! The dashboard's weekly trend, drawn on the server as SVG: no script, no font or library from
//! elsewhere, and the same numbers in a table beside it for anyone who cannot see the chart.

use serde::Serialize;

/// One point of the trend: a period's label and its share (0–1), if any answers.
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
    pub n: i64,
}

#[derive(Serialize)]
pub struct Dot {
    pub x: String,
    pub y: String,
    /// Fewer answers than make a figure dependable: drawn hollow.
    pub uncertain: bool,
}

#[derive(Serialize)]
pub struct Tick {
    pub x: String,
    pub label: String,
}

#[derive(Serialize)]
pub struct Gridline {
    pub y: String,
    pub label: String,
}

/// What the SVG template draws.
#[derive(Serialize)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// One polyline per run of consecutive periods with a value: a gap is never bridged.
    pub lines: Vec<String>,
    pub dots: Vec<Dot>,
    pub ticks: Vec<Tick>,
    pub grid: Vec<Gridline>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// Below this many answers a figure is marked as uncertain.
pub const DEPENDABLE_N: i64 = 30;

/// Lays out a 0–100% chart of the points, oldest first.
pub fn trend(points: &[Point]) -> Chart {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = if points.len() > 1 {
        plot_w / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x_of = |i: usize| LEFT + step * i as f64;
    let y_of = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut lines = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let mut dots = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let (x, y) = (x_of(i), y_of(v));
                run.push(format!("{x:.1},{y:.1}"));
                dots.push(Dot {
                    x: format!("{x:.1}"),
                    y: format!("{y:.1}"),
                    uncertain: p.n < DEPENDABLE_N,
                });
            }
            None => {
                if run.len() > 1 {
                    lines.push(run.join(" "));
                }
                run.clear();
            }
        }
    }
    if run.len() > 1 {
        lines.push(run.join(" "));
    }
    // A label every few periods, so that they never overlap.
    let every = points.len().div_ceil(6).max(1);
    let ticks = points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == points.len())
        .map(|(i, p)| Tick {
            x: format!("{:.1}", x_of(i)),
            label: p.label.clone(),
        })
        .collect();
    let grid = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|v| Gridline {
            y: format!("{:.1}", y_of(*v)),
            label: format!("{:.0}%", v * 100.0),
        })
        .collect();
    Chart {
        width: WIDTH as u32,
        height: HEIGHT as u32,
        lines,
        dots,
        ticks,
        grid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(value: Option<f64>, n: i64) -> Point {
        Point {
            label: "w".into(),
            value,
            n,
        }
    }

    #[test]
    fn a_gap_is_never_bridged_and_small_samples_are_marked() {
        let c = trend(&[
            p(Some(0.5), 40),
            p(Some(0.6), 40),
            p(None, 0),
            p(Some(0.7), 3),
            p(Some(0.8), 40),
        ]);
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.dots.len(), 4);
        assert_eq!(
            c.dots.iter().filter(|d| d.uncertain).count(),
            1,
            "the week of three answers"
        );
    }

    #[test]
    fn one_lone_point_draws_no_line_and_full_marks_sit_at_the_top() {
        let c = trend(&[p(None, 0), p(Some(1.0), 50), p(None, 0)]);
        assert!(c.lines.is_empty());
        assert_eq!(c.dots[0].y, format!("{TOP:.1}"));
    }
}
