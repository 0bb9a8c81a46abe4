//! The digest's 12-week CSAT trend, drawn in Rust into a PNG for an email read on a phone:
//! drawn at twice its displayed size (1200 × 600 for 600 × 300), with labels large enough to
//! read when the phone shrinks the image to its width. A dot per week with answers, its `n`
//! above it, hollow where the week has too few answers to trust; a line only between weeks
//! that both have answers. The chart carries numbers only: its title and its key are in the
//! email's text, in the reader's language and direction (the renderer cannot lay out Hebrew or
//! join Arabic letters, and spaced Cyrillic badly).

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// The displayed size, in CSS pixels, and the pixels drawn per CSS pixel.
pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 300;
const SCALE: u32 = 2;
const FONT: &str = "mashov-sans";

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is embedded and known to parse; a failure only leaves the chart without text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// One week of the trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    /// The week's Sunday.
    pub week: NaiveDate,
    /// CSAT in [0, 1], if anyone answered.
    pub csat: Option<f64>,
    pub n: i64,
}

/// Lengths in drawn pixels for a length in CSS pixels.
fn px(css: u32) -> u32 {
    css * SCALE
}

/// The trend as a PNG; weeks with fewer than `few` answers are drawn hollow.
pub fn csat_trend_png(points: &[TrendPoint], few: i64) -> Result<Vec<u8>, String> {
    register_font();
    let (width, height) = (px(WIDTH), px(HEIGHT));
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = points.len().max(1) as i32;
        let label_font = (FONT, f64::from(px(20)));
        let mut chart = ChartBuilder::on(&root)
            .margin(px(10))
            .x_label_area_size(px(34))
            .y_label_area_size(px(52))
            // Room above 100% for the counts over the dots.
            .build_cartesian_2d(-0.5f64..(f64::from(n) - 0.5), 0f64..118f64)
            .map_err(|e| e.to_string())?;
        // Every other week is named, counting back from the latest, so that labels stay large.
        let last = points.len().saturating_sub(1);
        let labels: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if (last - i).is_multiple_of(2) {
                    p.week.format("%d.%m").to_string()
                } else {
                    String::new()
                }
            })
            .collect();
        chart
            .configure_mesh()
            .x_labels(points.len())
            .x_label_formatter(&|x| {
                let i = x.round() as i64;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .y_labels(3)
            .y_label_formatter(&|y| {
                if *y <= 100.0 {
                    format!("{y:.0}%")
                } else {
                    String::new()
                }
            })
            .label_style(label_font)
            .disable_x_mesh()
            .light_line_style(RGBColor(235, 238, 242))
            .bold_line_style(RGBColor(220, 224, 230).stroke_width(px(1)))
            .draw()
            .map_err(|e| e.to_string())?;
        let color = RGBColor(11, 79, 138);
        let at = |i: usize, v: f64| (i as f64, v * 100.0);
        // A line only between neighbouring weeks that both have answers.
        for pair in points.windows(2).enumerate() {
            let (i, [a, b]) = pair else { continue };
            if let (Some(va), Some(vb)) = (a.csat, b.csat) {
                chart
                    .draw_series(LineSeries::new(
                        [at(i, va), at(i + 1, vb)],
                        color.stroke_width(px(2)),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        let count_style = TextStyle::from((FONT, f64::from(px(15))).into_font())
            .color(&RGBColor(74, 74, 74))
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, p) in points.iter().enumerate() {
            let Some(v) = p.csat else { continue };
            let dot = if p.n >= few {
                Circle::new((0, 0), px(5), color.filled())
            } else {
                Circle::new((0, 0), px(5), ShapeStyle::from(&color).stroke_width(SCALE))
            };
            let count = Text::new(p.n.to_string(), (0, -(px(9) as i32)), count_style.clone());
            // White under each dot, so that a hollow one shows no line through it.
            let under = Circle::new((0, 0), px(5), WHITE.filled());
            chart
                .draw_series(std::iter::once(EmptyElement::at(at(i, v)) + under))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(EmptyElement::at(at(i, v)) + dot + count))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&buffer)
            .map_err(|e| e.to_string())?;
    }
    Ok(png_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(csat: impl Fn(i64) -> Option<f64>, n: i64) -> Vec<TrendPoint> {
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap_or_default();
        (0..12)
            .map(|i| TrendPoint {
                week: day + chrono::Duration::days(7 * i),
                csat: csat(i),
                n,
            })
            .collect()
    }

    fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a valid PNG");
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or_default()];
        let info = reader.next_frame(&mut buf).expect("a frame");
        (info.width, info.height, buf)
    }

    #[test]
    fn the_chart_is_a_png_at_twice_its_displayed_size() {
        let png_bytes = csat_trend_png(&trend(|i| (i != 3).then_some(0.5), 20), 10).expect("png");
        assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        let (w, h, _) = pixels(&png_bytes);
        assert_eq!((w, h), (2 * WIDTH, 2 * HEIGHT));
    }

    /// The chart's colour, counted in the band between two weeks: a line crosses a week only
    /// when both weeks beside it have answers.
    #[test]
    fn no_line_crosses_a_week_without_answers() {
        let blue = |png_bytes: &[u8]| {
            let (w, h, buf) = pixels(png_bytes);
            // The plot spans most of the width; weeks 3 to 5 lie around its middle third.
            let (x0, x1) = (w * 36 / 100, w * 50 / 100);
            let mut count = 0;
            for y in 0..h {
                for x in x0..x1 {
                    let i = ((y * w + x) * 3) as usize;
                    if buf[i] < 60 && buf[i + 1] > 60 && buf[i + 1] < 110 && buf[i + 2] > 110 {
                        count += 1;
                    }
                }
            }
            count
        };
        let full = csat_trend_png(&trend(|_| Some(0.5), 20), 10).expect("png");
        let gap = csat_trend_png(&trend(|i| (!(3..=5).contains(&i)).then_some(0.5), 20), 10)
            .expect("png");
        assert!(blue(&full) > 1000, "the line is drawn: {}", blue(&full));
        assert_eq!(blue(&gap), 0, "nothing drawn across weeks 3 to 5");
    }

    #[test]
    fn weeks_with_few_answers_are_hollow() {
        let blue = |png_bytes: &[u8]| {
            let (_, _, buf) = pixels(png_bytes);
            buf.chunks(3)
                .filter(|p| p[0] < 60 && p[1] > 60 && p[1] < 110 && p[2] > 110)
                .count()
        };
        // The same counts over the dots, and no line: only the threshold differs.
        let alone = |i: i64| (i % 2 == 0).then_some(0.5);
        let hollow = blue(&csat_trend_png(&trend(alone, 20), 30).expect("png"));
        let filled = blue(&csat_trend_png(&trend(alone, 20), 10).expect("png"));
        assert!(
            hollow * 10 < filled * 8,
            "hollow dots hold less colour: {hollow} vs {filled}"
        );
    }
}
