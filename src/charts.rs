//! The digest's 12-week CSAT trend, drawn in Rust into a PNG: 600 × 240 pixels, the weeks'
//! Sundays under the axis, CSAT in percent, the title in the reader's language.
//!
//! The text renderer draws glyphs in the order given and knows nothing of right-to-left
//! scripts, so Hebrew is handed to it in visual order (`visual_order`). Arabic would also need
//! its letters joined, which the renderer cannot do: an Arabic chart carries no title (the
//! email says it above the image).

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::FontStyle;

const WIDTH: u32 = 600;
const HEIGHT: u32 = 240;
const FONT: &str = "mashov-sans";

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is embedded and known to parse; a failure only leaves the chart without text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

fn is_rtl(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn is_ltr(c: char) -> bool {
    c.is_ascii_alphanumeric() || (c.is_alphabetic() && !is_rtl(c))
}

/// A right-to-left line in the order its glyphs appear from left to right: runs of Latin letters
/// and digits keep their order, everything else is reversed, and brackets are mirrored.
pub fn visual_order(text: &str) -> String {
    if !text.chars().any(is_rtl) {
        return text.to_string();
    }
    // Runs: (is_ltr, chars). Neutrals between two LTR characters stay in the LTR run.
    let chars: Vec<char> = text.chars().collect();
    let mut runs: Vec<(bool, Vec<char>)> = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let ltr = is_ltr(c)
            || (!is_rtl(c)
                && !c.is_whitespace()
                && i > 0
                && i + 1 < chars.len()
                && is_ltr(chars[i - 1])
                && is_ltr(chars[i + 1]));
        match runs.last_mut() {
            Some((kind, run)) if *kind == ltr => run.push(c),
            _ => runs.push((ltr, vec![c])),
        }
    }
    let mirror = |c: char| match c {
        '(' => ')',
        ')' => '(',
        '[' => ']',
        ']' => '[',
        other => other,
    };
    runs.into_iter()
        .rev()
        .flat_map(|(ltr, run)| {
            if ltr {
                run
            } else {
                run.into_iter().rev().map(mirror).collect()
            }
        })
        .collect()
}

/// The trend as a PNG: (week's Sunday, CSAT in [0, 1] if any answer). `title` is drawn as
/// given in visual order (None: no title).
pub fn csat_trend_png(
    points: &[(NaiveDate, Option<f64>)],
    title: Option<&str>,
) -> Result<Vec<u8>, String> {
    register_font();
    let mut buffer = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = points.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .caption(title.map(visual_order).unwrap_or_default(), (FONT, 17))
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..(f64::from(n) - 0.5), 0f64..100f64)
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = points
            .iter()
            .map(|(d, _)| d.format("%d.%m").to_string())
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
            .y_labels(5)
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .label_style((FONT, 12))
            .light_line_style(RGBColor(235, 238, 242))
            .draw()
            .map_err(|e| e.to_string())?;
        let color = RGBColor(11, 79, 138);
        let series: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, (_, v))| v.map(|v| (i as f64, v * 100.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(series.iter().map(|p| Circle::new(*p, 4, color.filled())))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
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

    #[test]
    fn hebrew_is_laid_out_right_to_left_and_numbers_keep_their_order() {
        assert_eq!(visual_order("שלום"), "םולש");
        assert_eq!(visual_order("שבוע 47"), "47 עובש");
        assert_eq!(visual_order("שביעות רצון (CSAT)"), "(CSAT) ןוצר תועיבש");
        assert_eq!(visual_order("CSAT 12 weeks"), "CSAT 12 weeks");
    }

    #[test]
    fn the_chart_is_a_png_of_the_right_size() {
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("day");
        let points: Vec<(NaiveDate, Option<f64>)> = (0..12)
            .map(|i| {
                (
                    day + chrono::Duration::days(7 * i),
                    (i != 3).then_some(0.5 + i as f64 / 40.0),
                )
            })
            .collect();
        let png_bytes = csat_trend_png(&points, Some("שביעות רצון")).expect("png");
        assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().expect("a valid PNG");
        assert_eq!((reader.info().width, reader.info().height), (600, 240));
    }
}
